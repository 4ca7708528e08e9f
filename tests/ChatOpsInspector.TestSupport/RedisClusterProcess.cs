using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace ChatOpsInspector.TestSupport;

/// <summary>
/// A real Redis Cluster on loopback, made the way an operator makes one: <c>redis-server --cluster-enabled yes</c>
/// nodes joined by <c>redis-cli --cluster create</c>, as an ElastiCache or MemoryDB cluster-mode endpoint
/// behaves (slots split between the masters, CROSSSLOT and MOVED enforced).
/// </summary>
/// <param name="nodeTimeoutMs">The nodes' <c>cluster-node-timeout</c>.</param>
/// <param name="commandTimeoutMs">The sync and async timeouts in <see cref="ConnectionString"/>.</param>
public sealed class RedisClusterProcess(int nodeTimeoutMs = 5000, int commandTimeoutMs = 2000) : IAsyncDisposable
{
    private readonly List<Process> _nodes = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-cluster-").FullName;
    private ConnectionMultiplexer? _admin;

    public IReadOnlyList<int> Ports { get; private set; } = [];

    public string ConnectionString =>
        string.Join(",", Ports.Select(p => $"127.0.0.1:{p}")) + $",abortConnect=false,connectTimeout=2000,syncTimeout={commandTimeoutMs},asyncTimeout={commandTimeoutMs}";

    public async Task StartAsync(int shards = 3)
    {
        Ports = ClusterPorts(shards);
        foreach (var port in Ports)
        {
            _nodes.Add(Start(port));
        }
        foreach (var port in Ports)
        {
            await WaitAsync(() => Run(RedisCli, ["-p", port.ToString(), "ping"]).Output.Contains("PONG", StringComparison.Ordinal), $"redis-server on port {port}", TimeSpan.FromSeconds(10));
        }
        var create = Run(RedisCli, ["--cluster", "create", .. Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + create.Output);
        }
        await WaitAsync(() => Ports.All(p => Run(RedisCli, ["-p", p.ToString(), "cluster", "info"]).Output.Contains("cluster_state:ok", StringComparison.Ordinal)), "cluster_state:ok", TimeSpan.FromSeconds(30));
    }

    /// <summary>Runs a command on every master, e.g. an ACL SETUSER that must hold cluster-wide.</summary>
    public async Task OnEveryNodeAsync(Func<IServer, Task> action)
    {
        foreach (var port in Ports)
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,connectTimeout=2000");
            await action(admin.GetServer("127.0.0.1", port));
        }
    }

    /// <summary>Which master holds <paramref name="key"/>: the port of the node serving its slot.</summary>
    public static async Task<int> PortOfAsync(IConnectionMultiplexer connection, RedisKey key)
    {
        var endpoint = (IPEndPoint)(await connection.GetDatabase().IdentifyEndpointAsync(key))!;
        return endpoint.Port;
    }

    /// <summary>An admin connection to the whole cluster, kept until disposal.</summary>
    public async Task<IConnectionMultiplexer> AdminAsync()
    {
        _admin ??= await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        return _admin;
    }

    /// <summary>Each master's server, for INFO and DBSIZE.</summary>
    public async Task<IReadOnlyList<IServer>> MastersAsync()
    {
        var admin = await AdminAsync();
        return Ports.Select(p => admin.GetServer("127.0.0.1", p)).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
        foreach (var node in _nodes)
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
                node.WaitForExit(5000);
            }
            node.Dispose();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string RedisServer => File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";

    private static string RedisCli => File.Exists("/usr/bin/redis-cli") ? "/usr/bin/redis-cli" : "redis-cli";

    private Process Start(int port)
    {
        var start = new ProcessStartInfo(RedisServer)
        {
            ArgumentList =
            {
                "--port", port.ToString(), "--bind", "127.0.0.1", "--protected-mode", "yes",
                "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, $"nodes-{port}.conf"),
                "--cluster-node-timeout", nodeTimeoutMs.ToString(), "--dir", _dir, "--save", "", "--appendonly", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitAsync(Func<bool> done, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (done())
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException("timed out waiting for " + what);
    }

    private static (int ExitCode, string Output) Run(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(30_000);
        return (process.ExitCode, output.Result + error.Result);
    }

    /// <summary>Free ports whose cluster bus port (port + 10000) is free too.</summary>
    private static int[] ClusterPorts(int count)
    {
        var ports = new List<int>();
        while (ports.Count < count)
        {
            var port = Random.Shared.Next(20000, 30000);
            if (!ports.Contains(port) && IsFree(port) && IsFree(port + 10000))
            {
                ports.Add(port);
            }
        }
        return [.. ports];
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
