using System.Collections.Concurrent;
using System.Diagnostics;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// The compiled bot (src/ChatOpsInspector) as a child process on 127.0.0.1, configured only through
/// environment variables, exactly as an operator would run it. It can be SIGKILLed and restarted.
/// </summary>
internal sealed class BotProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> _settings;
    private readonly ConcurrentQueue<string> _tail = new();
    private Process? _process;
    private long _logLines;

    public BotProcess(Dictionary<string, string> settings, int? port = null)
    {
        _settings = settings;
        Port = port ?? RedisProcess.FreePort();
    }

    public int Port { get; }

    /// <summary>Where the bot starts; null: next to its binaries, where the shipped appsettings.json is.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Keep every log line (not only the last 200), to search the whole output.</summary>
    public bool KeepAllLines { get; init; }

    private readonly ConcurrentQueue<string> _all = new();

    public IReadOnlyCollection<string> AllLines => _all;

    public string BaseUrl => $"http://127.0.0.1:{Port}/";

    public long LogLines => Interlocked.Read(ref _logLines);

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public async Task StartAsync()
    {
        if (!File.Exists(Paths.BotDll))
        {
            throw new InvalidOperationException($"{Paths.BotDll} is missing; build with `dotnet build -c Release` first.");
        }
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Paths.BotDll, "--urls", $"http://127.0.0.1:{Port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory ?? Path.GetDirectoryName(Paths.BotDll)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in _settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("the bot did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the bot exited with {_process.ExitCode}:\n{Tail()}");
            }
            try
            {
                if ((await http.GetAsync(BaseUrl + "healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("the bot did not answer /healthz within 60 s:\n" + Tail());
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        Interlocked.Increment(ref _logLines);
        if (KeepAllLines)
        {
            _all.Enqueue(line);
        }
        _tail.Enqueue(line);
        while (_tail.Count > 200 && _tail.TryDequeue(out _))
        {
        }
    }

    public string Tail() => string.Join('\n', _tail);

    /// <summary>SIGKILL: no shutdown hooks, no draining — a crashed or OOM-killed pod.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>Resident set of the bot, from /proc (what a container limit counts).</summary>
    public long WorkingSetBytes()
    {
        if (Pid is not { } pid)
        {
            return 0;
        }
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
            }
        }
        return 0;
    }

    public TimeSpan CpuTime()
    {
        if (_process is null || _process.HasExited)
        {
            return TimeSpan.Zero;
        }
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
