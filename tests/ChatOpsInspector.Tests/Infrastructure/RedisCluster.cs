using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// A real three-master Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c>
/// processes joined by <c>redis-cli --cluster create</c>, as an ElastiCache or MemoryDB cluster-mode
/// endpoint behaves (slots split in three, CROSSSLOT and MOVED enforced). One cluster serves a whole
/// test class; tests isolate themselves with their own key prefix.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime
{
    private readonly List<Process> _nodes = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-cluster-").FullName;

    public IReadOnlyList<int> Ports { get; private set; } = [];

    public string ConnectionString =>
        string.Join(",", Ports.Select(p => $"127.0.0.1:{p}")) + ",abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    public async Task InitializeAsync()
    {
        Ports = ClusterPorts(3);
        foreach (var port in Ports)
        {
            _nodes.Add(Start(port));
        }
        foreach (var port in Ports)
        {
            await WaitPingAsync(port);
        }
        var create = Run("redis-cli", ["--cluster", "create", .. Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + create.Output);
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (Ports.All(p => Run("redis-cli", ["-p", p.ToString(), "cluster", "info"]).Output.Contains("cluster_state:ok", StringComparison.Ordinal)))
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("the Redis Cluster did not reach cluster_state:ok.");
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
    public async Task<int> PortOfAsync(IConnectionMultiplexer connection, RedisKey key)
    {
        var endpoint = (IPEndPoint)(await connection.GetDatabase().IdentifyEndpointAsync(key))!;
        return endpoint.Port;
    }

    public Task DisposeAsync()
    {
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
        return Task.CompletedTask;
    }

    private Process Start(int port)
    {
        var binary = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList =
            {
                "--port", port.ToString(), "--bind", "127.0.0.1", "--protected-mode", "yes",
                "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, $"nodes-{port}.conf"),
                "--cluster-node-timeout", "5000", "--dir", _dir, "--save", "", "--appendonly", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitPingAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (Run("redis-cli", ["-p", port.ToString(), "ping"]).Output.Contains("PONG", StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"redis-server did not start on port {port}.");
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
