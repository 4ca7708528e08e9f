namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>Finds the shared public fixtures: <c>../shared/fixtures</c> beside the repository root.</summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ChatOpsInspector.sln")))
        {
            dir = dir.Parent;
        }
        if (dir?.Parent is null)
        {
            throw new InvalidOperationException("ChatOpsInspector.sln not found above " + AppContext.BaseDirectory);
        }
        var fixtures = Path.Combine(dir.Parent.FullName, "shared", "fixtures");
        return Directory.Exists(fixtures)
            ? fixtures
            : throw new InvalidOperationException($"Shared fixtures not found at {fixtures}; they live beside the repository.");
    });

    public static string Root => RootPath.Value;

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(Path_(parts));

    public static byte[] ReadBytes(params string[] parts) => File.ReadAllBytes(Path_(parts));

    public static string FindSolutionDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ChatOpsInspector.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("ChatOpsInspector.sln not found");
    }
}
