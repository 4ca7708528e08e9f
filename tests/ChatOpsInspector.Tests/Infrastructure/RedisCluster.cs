using ChatOpsInspector.TestSupport;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// A real three-master Redis Cluster on loopback (<see cref="RedisClusterProcess"/>) as an xunit fixture.
/// One cluster serves a whole test class; tests isolate themselves with their own key prefix.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime
{
    private readonly RedisClusterProcess _cluster = new();

    public IReadOnlyList<int> Ports => _cluster.Ports;

    public string ConnectionString => _cluster.ConnectionString;

    public Task InitializeAsync() => _cluster.StartAsync(3);

    /// <summary>Runs a command on every master, e.g. an ACL SETUSER that must hold cluster-wide.</summary>
    public Task OnEveryNodeAsync(Func<IServer, Task> action) => _cluster.OnEveryNodeAsync(action);

    /// <summary>Which master holds <paramref name="key"/>: the port of the node serving its slot.</summary>
    public Task<int> PortOfAsync(IConnectionMultiplexer connection, RedisKey key) => RedisClusterProcess.PortOfAsync(connection, key);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}
