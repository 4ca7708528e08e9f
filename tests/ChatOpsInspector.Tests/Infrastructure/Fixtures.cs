namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// The public sample payloads and schemas the tests read, kept in the repository at
/// <c>tests/ChatOpsInspector.Tests/Fixtures</c> (where each came from: <c>Fixtures/SOURCES.md</c>).
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<string> Solution = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ChatOpsInspector.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("ChatOpsInspector.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => Path.Combine(Solution.Value, "tests", "ChatOpsInspector.Tests", "Fixtures");

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(Path_(parts));

    public static byte[] ReadBytes(params string[] parts) => File.ReadAllBytes(Path_(parts));

    public static string FindSolutionDir() => Solution.Value;
}
