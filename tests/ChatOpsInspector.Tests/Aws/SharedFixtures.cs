namespace ChatOpsInspector.Tests.Aws;

/// <summary>
/// Locates the repository (the directory holding ChatOpsInspector.sln) and the shared fixtures that
/// sit beside it at <c>&lt;repo&gt;/../shared/fixtures</c>, walking up from the test binaries.
/// </summary>
internal static class SharedFixtures
{
    private static readonly Lazy<string> Repository = new(LocateRepository);

    public static string RepositoryRoot => Repository.Value;

    public static string FixturesRoot
    {
        get
        {
            var fixtures = Path.GetFullPath(Path.Combine(Repository.Value, "..", "shared", "fixtures"));
            return Directory.Exists(fixtures)
                ? fixtures
                : throw new DirectoryNotFoundException($"Shared fixtures are expected at {fixtures}, beside the repository.");
        }
    }

    public static string FixturePath(params string[] parts) => Path.Combine([FixturesRoot, .. parts]);

    public static string ReadFixture(params string[] parts) => File.ReadAllText(FixturePath(parts));

    private static string LocateRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ChatOpsInspector.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ChatOpsInspector.sln above {AppContext.BaseDirectory}.");
    }
}
