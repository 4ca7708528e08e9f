namespace ChatOpsInspector.Bench.Harness;

/// <summary>Where the repository, the built bot and the shared fixtures are, found from the bench's own location.</summary>
internal static class Paths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ChatOpsInspector.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("ChatOpsInspector.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => Root.Value;

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>The bot as built by this bench's project reference (same configuration).</summary>
    public static string BotDll => Path.Combine(RepoRoot, "src", "ChatOpsInspector", "bin", Configuration, "net10.0", "ChatOpsInspector.dll");

    public static string Fixtures =>
        Environment.GetEnvironmentVariable("COI_FIXTURES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(RepoRoot, "tests", "ChatOpsInspector.Tests", "Fixtures");

    public static string Results
    {
        get
        {
            var dir = Path.Combine(RepoRoot, "bench", "results");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static string Redis => File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
}
