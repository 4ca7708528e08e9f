using System.Diagnostics;
using System.Net;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// Closed-loop load: <c>concurrency</c> workers send operations 0..count-1 as fast as answers come
/// back, stopping at <c>count</c> or at the time cap, and record each operation's latency.
/// </summary>
internal static class Load
{
    public static HttpClient Client(int connections = 64) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
        UseCookies = false,
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <param name="operation">Sends operation <c>i</c>; returns the HTTP status, or 0 for a connection error.</param>
    public static async Task<LoadResult> RunAsync(int count, int concurrency, TimeSpan cap, Func<int, Task<int>> operation)
    {
        var next = -1;
        var deadline = Stopwatch.GetTimestamp() + (long)(cap.TotalSeconds * Stopwatch.Frequency);
        var latencies = new List<long>[concurrency];
        var statuses = new Dictionary<int, int>[concurrency];
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<long>(count / concurrency + 16);
            var codes = statuses[w] = [];
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count || Stopwatch.GetTimestamp() > deadline)
                {
                    return;
                }
                var t0 = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await operation(i);
                }
                catch (HttpRequestException)
                {
                    status = 0;
                }
                catch (TaskCanceledException)
                {
                    status = 0;
                }
                mine.Add(Stopwatch.GetTimestamp() - t0);
                codes[status] = codes.GetValueOrDefault(status) + 1;
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        var merged = new Dictionary<int, int>();
        foreach (var d in statuses)
        {
            foreach (var (code, n) in d)
            {
                merged[code] = merged.GetValueOrDefault(code) + n;
            }
        }
        return new LoadResult(all.Length, elapsed, merged, all);
    }
}

internal static class PacedLoad
{
    /// <summary>
    /// Open loop: starts operation i at i / rate seconds whatever the answers do, so latency is the
    /// service's and not the queue a closed loop builds in front of it. At most <paramref name="maxInFlight"/> at once.
    /// </summary>
    public static async Task<LoadResult> RunAsync(int count, double perSecond, Func<int, Task<int>> operation, int maxInFlight = 512,
        Action<int, long, int>? record = null)
    {
        var latencies = new long[count];
        var lateness = new long[count];
        var statuses = new int[count];
        var gate = new SemaphoreSlim(maxInFlight);
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var due = started + (long)(i / perSecond * Stopwatch.Frequency);
            // Sleeps in whole milliseconds and then sends what is due: spinning for sub-millisecond
            // accuracy would take a core from the service being measured.
            var ahead = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (ahead >= TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(ahead);
            }
            await gate.WaitAsync();
            var index = i;
            var t0 = Stopwatch.GetTimestamp();
            // How late the generator sent it: on a machine it shares with the bot, it falls behind when
            // the bot is busy, and then the bot sees bursts instead of an even stream.
            lateness[index] = Math.Max(0, t0 - due);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    statuses[index] = await operation(index);
                }
                catch (HttpRequestException)
                {
                    statuses[index] = 0;
                }
                finally
                {
                    latencies[index] = Stopwatch.GetTimestamp() - t0;
                    record?.Invoke(index, latencies[index], statuses[index]);
                    gate.Release();
                }
            }));
        }
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);
        Array.Sort(latencies);
        Array.Sort(lateness);
        return new LoadResult(count, elapsed, statuses.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count()), latencies)
        {
            SortedLateness = lateness,
        };
    }
}

internal sealed record LoadResult(int Done, TimeSpan Elapsed, IReadOnlyDictionary<int, int> Statuses, long[] SortedTicks)
{
    public double PerSecond => Done / Elapsed.TotalSeconds;

    /// <summary>Open loop only: how late each request went out after it was due.</summary>
    public long[] SortedLateness { get; init; } = [];

    public double Ms(double quantile) => Quantile(SortedTicks, quantile);

    public double LatenessMs(double quantile) => Quantile(SortedLateness, quantile);

    private static double Quantile(long[] sorted, double quantile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }
        var index = (int)Math.Min(sorted.Length - 1, Math.Ceiling(quantile * sorted.Length) - 1);
        return sorted[Math.Max(0, index)] * 1000.0 / Stopwatch.Frequency;
    }

    public double MaxMs => SortedTicks.Length == 0 ? 0 : SortedTicks[^1] * 1000.0 / Stopwatch.Frequency;

    public int Count(int status) => Statuses.GetValueOrDefault(status);

    public string StatusText => string.Join(" ", Statuses.OrderBy(s => s.Key).Select(s => $"{(s.Key == 0 ? "conn-error" : s.Key.ToString())}×{s.Value}"));
}
