using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// A real redis-server on a free loopback port. <paramref name="durable"/> turns on an fsync-always
/// append-only file, so a killed and restarted server still has every write it acknowledged.
/// </summary>
internal sealed class RedisProcess(bool durable = false) : IAsyncDisposable
{
    private Process? _process;
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-bench-redis-").FullName;
    private ConnectionMultiplexer? _admin;

    public int Port { get; } = FreePort();

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000";

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Paths.Redis)
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--protected-mode", "yes", "--dir", _dir, "--save", "" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in durable ? new[] { "--appendonly", "yes", "--appendfsync", "always" } : ["--appendonly", "no"])
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},connectTimeout=500");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not start on port {Port}");
    }

    /// <summary>SIGKILL: the harshest outage; with <c>durable</c> nothing acknowledged is lost.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>A connection for the harness's own checks (never shared with the bot).</summary>
    public async Task<IDatabase> AdminAsync()
    {
        _admin ??= await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        return _admin.GetDatabase();
    }

    public async Task<IServer> ServerAsync()
    {
        _admin ??= await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        return _admin.GetServer("127.0.0.1", Port);
    }

    /// <summary>Redis counters: total_commands_processed and per-command calls from INFO commandstats.</summary>
    public async Task<RedisCounters> CountersAsync()
    {
        var server = await ServerAsync();
        var info = await server.InfoRawAsync("all");
        var commands = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (var line in info!.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("total_commands_processed:", StringComparison.Ordinal))
            {
                total = long.Parse(line["total_commands_processed:".Length..]);
            }
            else if (line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                var name = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
                var calls = line.Split(',')[0].Split('=')[1];
                commands[name] = long.Parse(calls);
            }
        }
        return new RedisCounters(total, commands);
    }

    /// <summary>CPU seconds redis-server has used (INFO cpu), to show how the cores were shared.</summary>
    public async Task<double> CpuSecondsAsync()
    {
        var server = await ServerAsync();
        var info = await server.InfoRawAsync("cpu");
        double total = 0;
        foreach (var line in info!.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("used_cpu_user:", StringComparison.Ordinal) || line.StartsWith("used_cpu_sys:", StringComparison.Ordinal))
            {
                total += double.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal sealed record RedisCounters(long Total, IReadOnlyDictionary<string, long> Commands)
{
    /// <summary>What happened between <paramref name="before"/> and this, minus the harness's own INFO calls.</summary>
    public RedisCounters Since(RedisCounters before)
    {
        var diff = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, calls) in Commands)
        {
            var d = calls - before.Commands.GetValueOrDefault(name);
            if (d > 0)
            {
                diff[name] = d;
            }
        }
        var own = diff.GetValueOrDefault("info");
        diff.Remove("info");
        return new RedisCounters(Total - before.Total - own, diff);
    }
}
