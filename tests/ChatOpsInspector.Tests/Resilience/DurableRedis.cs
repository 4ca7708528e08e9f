using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Resilience;

/// <summary>
/// A redis-server that writes every change to an fsync-always append-only file, so it can be killed
/// and restarted on the same port with everything it acknowledged: an outage, not a data wipe.
/// </summary>
public sealed class DurableRedis : RedisServer
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-durable-redis-").FullName;

    protected override IEnumerable<string> PersistenceArguments =>
        ["--dir", _dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"];

    /// <summary>SIGKILL, as in a crashed node.</summary>
    public void Kill() => Stop();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
