using System.Diagnostics;
using ChatOpsInspector.Tests.Infrastructure;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Resilience;

/// <summary>
/// A redis-server that writes every change to an fsync-always append-only file, so it can be killed
/// and restarted on the same port with everything it acknowledged: an outage, not a data wipe.
/// </summary>
public sealed class DurableRedis : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-durable-redis-").FullName;
    private Process? _process;

    public int Port { get; } = RedisServer.FreePort();

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=1000,syncTimeout=2000,asyncTimeout=2000";

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        var binary = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList =
            {
                "--port", Port.ToString(), "--bind", "127.0.0.1", "--protected-mode", "yes", "--dir", _dir,
                "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
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
            catch (RedisServerException ex) when (ex.Message.StartsWith("LOADING", StringComparison.Ordinal))
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not start on port {Port}.");
    }

    /// <summary>SIGKILL, as in a crashed node.</summary>
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

    public Task DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}
