using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// A three-master Redis Cluster on loopback, made the way an operator makes one: three
/// <c>redis-server --cluster-enabled yes</c> joined by <c>redis-cli --cluster create</c>.
/// </summary>
internal sealed class RedisClusterProcess : IAsyncDisposable
{
    private readonly List<Process> _nodes = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-bench-cluster-").FullName;
    private ConnectionMultiplexer? _admin;

    public IReadOnlyList<int> Ports { get; private set; } = [];

    public string ConnectionString =>
        string.Join(",", Ports.Select(p => $"127.0.0.1:{p}")) + ",abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000";

    public async Task StartAsync(int shards = 3)
    {
        Ports = ClusterPorts(shards);
        foreach (var port in Ports)
        {
            _nodes.Add(Start(port));
        }
        foreach (var port in Ports)
        {
            await WaitAsync(() => Run(RedisCli, ["-p", port.ToString(), "ping"]).Output.Contains("PONG", StringComparison.Ordinal), $"redis-server on {port}");
        }
        var create = Run(RedisCli, ["--cluster", "create", .. Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + create.Output);
        }
        await WaitAsync(() => Ports.All(p => Run(RedisCli, ["-p", p.ToString(), "cluster", "info"]).Output.Contains("cluster_state:ok", StringComparison.Ordinal)), "cluster_state:ok");
    }

    /// <summary>Each master's server, for INFO and DBSIZE.</summary>
    public async Task<IReadOnlyList<IServer>> MastersAsync()
    {
        _admin ??= await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        return Ports.Select(p => _admin.GetServer("127.0.0.1", p)).ToArray();
    }

    public async Task<IConnectionMultiplexer> AdminAsync()
    {
        _admin ??= await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        return _admin;
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
        foreach (var node in _nodes.Where(n => !n.HasExited))
        {
            node.Kill(entireProcessTree: true);
            node.WaitForExit(5000);
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string RedisCli => File.Exists("/usr/bin/redis-cli") ? "/usr/bin/redis-cli" : "redis-cli";

    private Process Start(int port)
    {
        var start = new ProcessStartInfo(Paths.Redis)
        {
            ArgumentList =
            {
                "--port", port.ToString(), "--bind", "127.0.0.1", "--protected-mode", "yes",
                "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, $"nodes-{port}.conf"),
                "--cluster-node-timeout", "15000", "--dir", _dir, "--save", "", "--appendonly", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (done())
            {
                return;
            }
            await Task.Delay(100);
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
