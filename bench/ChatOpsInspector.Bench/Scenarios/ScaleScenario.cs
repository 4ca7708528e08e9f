using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Bench.Harness;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.TestSupport;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// Millions of findings: the same skewed dataset (20 owners, groups of ~10 to a few thousand findings,
/// one group of 50,000) ingested into a 3-shard Redis Cluster and into a single Redis in one run, and
/// what then costs what: memory, keys per shard, the bot's working set, the chat reads, a planning
/// pass and the card read of the biggest group.
/// </summary>
internal static class ScaleScenario
{
    private const string BigCve = "CVE-2026-50000";
    private const int Samples = 20;

    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("scale");
        var count = options.Count ?? (options.Quick ? 100_000 : 1_000_000);
        var concurrency = options.Concurrency ?? 64;
        var cap = options.Cap ?? TimeSpan.FromMinutes(30);
        var workload = new Workload(count);
        report.Note($"{count:#,0} findings per topology, {workload.Groups:#,0} ordinary groups over {Events.Apps.Length} owners "
            + $"(skewed: ~{workload.SmallestGroup:#,0} to ~{workload.LargestGroup:#,0} findings) plus one group of {workload.Big:#,0}; "
            + $"{concurrency} concurrent senders, one event per request");

        await using (var cluster = new RedisClusterProcess(nodeTimeoutMs: 15000, commandTimeoutMs: 5000))
        {
            await cluster.StartAsync();
            await RunTopologyAsync(report, "cluster", cluster.ConnectionString, async () => await cluster.MastersAsync(), workload, concurrency, cap);
        }
        await using (var single = new RedisProcess())
        {
            await single.StartAsync();
            await RunTopologyAsync(report, "single", single.ConnectionString, async () => [await single.ServerAsync()], workload, concurrency, cap);
        }
        report.Note("dispatcher and SLA scheduler idle in the bot during the run (poll 1 h): the figures are ingest and the chat reads; "
            + "the planning pass and the card read are timed from the harness with the bot's own store code");
        return report;
    }

    private static async Task RunTopologyAsync(
        Report report, string name, string connection, Func<Task<IReadOnlyList<IServer>>> masters, Workload workload, int concurrency, TimeSpan cap)
    {
        Console.WriteLine($"  [{name}] ingesting {workload.Count:#,0} findings ({DateTimeOffset.UtcNow:HH:mm:ss})");
        var slack = await FakeSlack.StartAsync();
        // The bot talks to the topology given; the rig's own single Redis is never started.
        await using var rig = new Rig { Redis = new RedisProcess(), Slack = slack };
        var bot = await rig.StartBotAsync(new Dictionary<string, string>
        {
            ["State:Redis"] = connection,
            ["Dispatch:PollInterval"] = "01:00:00",
            ["Sla:Scheduler:PollInterval"] = "01:00:00",
            ["Sla:Scheduler:ScanInterval"] = "01:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
            // /vulns stats then covers all 20 owners, the heaviest case.
            ["Access:Open"] = "true",
        });
        var memory0 = await UsedMemoryAsync(await masters());
        using var http = Load.Client(concurrency);
        var ingest = await Load.RunAsync(workload.Count, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(workload.Spec(i))));
        var accepted = ingest.Count(202);
        var rate = accepted / ingest.Elapsed.TotalSeconds;
        Add(report, $"[{name}] findings accepted", $"{accepted:#,0} of {workload.Count:#,0} ({ingest.StatusText})");
        Check(report, $"[{name}] ingest rate (findings/s)", Math.Round(rate), name == "single" ? "≥ 5,000" : "", name != "single" || rate >= 5000);
        var servers = await masters();
        var memory = await UsedMemoryAsync(servers) - memory0;
        Add(report, $"[{name}] Redis memory per finding (B, INFO used_memory)", Math.Round((double)memory / Math.Max(1, accepted)));
        var keys = await Task.WhenAll(servers.Select(s => s.DatabaseSizeAsync()));
        Add(report, $"[{name}] keys per shard", string.Join(" / ", keys.Select(k => k.ToString("#,0", CultureInfo.InvariantCulture))));

        Console.WriteLine($"  [{name}] chat reads ({DateTimeOffset.UtcNow:HH:mm:ss})");
        var owner = Events.Apps[0];
        var commands = new (string Label, string Text)[]
        {
            ("/vulns NAME", owner),
            ("/vulns stats", "stats"),
            ("/vulns sla", "sla " + owner),
            ("/vulns show CVE (50,000-finding group)", "show " + BigCve),
            ("/vulns show CVE (ordinary group)", "show " + Workload.Cve(workload.Groups / 2)),
        };
        foreach (var (label, text) in commands)
        {
            var (sorted, fallbacks, statuses) = await TimeCommandAsync(http, bot.BaseUrl, rig, text, name);
            double Q(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
            Check(report, $"[{name}] {label} p99 (ms)", Math.Round(Q(0.99), 1), "< 200", Q(0.99) < 200);
            Add(report, $"[{name}]   p50 / max (ms), answers past the 2 s budget, statuses",
                $"{Q(0.5):0.0} / {sorted[^1]:0.0}, {fallbacks}, {statuses}");
        }
        var rss = bot.WorkingSetBytes();
        Check(report, $"[{name}] bot working set (MB)", Math.Round(rss / 1048576.0), "< 300", rss < 300L * 1048576);

        // The bot's own store code, from the harness: a planning pass and the biggest group's card.
        // Long timeouts: a read of the biggest group is what is being measured, not a failure.
        await using var mux = await ConnectionMultiplexer.ConnectAsync(connection + ",syncTimeout=120000,asyncTimeout=120000");
        var store = new RedisStore(mux, Options.Create(new StateOptions { KeyPrefix = Rig.Prefix }), TimeProvider.System);
        var (firstReads, firstTime) = await PlanningPassAsync(store);
        Add(report, $"[{name}] SLA planning, first pass after the burst: groups read, time (s)", $"{firstReads:#,0}, {firstTime.TotalSeconds:0.0}");
        const int more = 1_000;
        var after = await Load.RunAsync(more, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(workload.Spec(workload.Count + i))));
        var (nextReads, nextTime) = await PlanningPassAsync(store);
        Add(report, $"[{name}] SLA planning, pass after {after.Count(202):#,0} more findings: groups read, time (ms)", $"{nextReads:#,0}, {nextTime.TotalMilliseconds:0}");

        var bigId = GroupIds.For(owner, BigCve);
        var times = new List<double>();
        var members = 0;
        for (var i = 0; i < 5; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var group = await store.GetGroupAsync(bigId, CancellationToken.None);
            var card = AlertCardBuilder.Build(group!, DateTimeOffset.UtcNow);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            members = group!.Members.Count;
            GC.KeepAlive(card);
        }
        times.Sort();
        Add(report, $"[{name}] card update of the {members:#,0}-finding group: read + render, median / max (ms)", $"{times[2]:0} / {times[^1]:0}");
        Console.WriteLine($"  [{name}] done ({DateTimeOffset.UtcNow:HH:mm:ss})");
    }

    // Printed as measured, so a run cut short still leaves its figures.
    private static void Add(Report report, string metric, object value)
    {
        report.Add(metric, value);
        Console.WriteLine($"    {metric}: {value}");
    }

    private static void Check(Report report, string metric, object value, string goal, bool met)
    {
        report.Check(metric, value, goal, met);
        Console.WriteLine($"    {metric}: {value} (goal {goal}: {(met ? "met" : "NOT met")})");
    }

    /// <summary>What the scheduler does in a pass: the changed list in batches, each group read, then forgotten.</summary>
    private static async Task<(long Reads, TimeSpan Time)> PlanningPassAsync(RedisStore store)
    {
        var t0 = Stopwatch.GetTimestamp();
        long reads = 0;
        while (true)
        {
            var changed = await store.ChangedGroupsAsync(256, CancellationToken.None);
            await Task.WhenAll(changed.Select(c => store.GetGroupAsync(c.GroupId, CancellationToken.None)));
            await store.ForgetChangedAsync(changed, CancellationToken.None);
            reads += changed.Count;
            if (changed.Count < 256)
            {
                return (reads, Stopwatch.GetElapsedTime(t0));
            }
        }
    }

    private static async Task<(double[] SortedMs, int Fallbacks, string Statuses)> TimeCommandAsync(HttpClient http, string baseUrl, Rig rig, string text, string tag)
    {
        var times = new ConcurrentBag<double>();
        var statuses = new ConcurrentDictionary<int, int>();
        var fallbacks = 0;
        var owner = text.Split(' ')[^1].StartsWith("app", StringComparison.Ordinal) ? text.Split(' ')[^1] : Events.Apps[0];
        await Load.RunAsync(Samples, 4, TimeSpan.FromMinutes(5), async i =>
        {
            var body = InteractionsScenario.SlashCommand($"U{i % 50:000}BENCH", owner, rig.Slack.ResponseUrl($"{tag}-{text}-{i}"), $"trig-{tag}-{text}-{i}")
                .Replace("text=" + Uri.EscapeDataString(owner), "text=" + Uri.EscapeDataString(text), StringComparison.Ordinal);
            var t0 = Stopwatch.GetTimestamp();
            using var request = SlackSigner.Request(baseUrl + "api/slack/commands", body);
            using var response = await http.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (answer.Contains("Still looking", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref fallbacks);
            }
            return (int)response.StatusCode;
        });
        var sorted = times.ToArray();
        Array.Sort(sorted);
        return (sorted, fallbacks, string.Join(" ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
    }

    private static async Task<long> UsedMemoryAsync(IReadOnlyList<IServer> servers)
    {
        long total = 0;
        foreach (var server in servers)
        {
            var info = await server.InfoRawAsync("memory");
            var line = info!.Split('\n', StringSplitOptions.TrimEntries).First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
            total += long.Parse(line["used_memory:".Length..], CultureInfo.InvariantCulture);
        }
        return total;
    }

    /// <summary>
    /// Finding i of the run: every (Count / Big)-th goes to the big group; the rest fall on ordinary
    /// groups with a square-law skew (a golden-ratio sequence, squared), so a few groups are large and
    /// most hold a few dozen or fewer.
    /// </summary>
    private sealed class Workload(int count)
    {
        public int Count => count;
        public int Big { get; } = Math.Min(50_000, Math.Max(1, count / 2));
        public int Groups => Math.Max(1, (count - Big) / 20);
        public int LargestGroup => (int)((count - Big) * Math.Sqrt(1.0 / Groups));
        public int SmallestGroup => (int)((count - Big) * (1 - Math.Sqrt(1 - 1.0 / Groups)));

        public static string Cve(int group) => $"CVE-2025-{100000 + group}";

        public FindingSpec Spec(int i)
        {
            var every = Math.Max(1, count / Big);
            if (i % every == 0 && i / every < Big)
            {
                return new FindingSpec($"scale-{i:x8}", BigCve, $"i-{i:x17}", Events.Apps[0], Padding: 600 + (i * 7919) % 2000);
            }
            var u = (i * 0.6180339887498949) % 1.0;
            var g = Math.Min(Groups - 1, (int)(Groups * u * u));
            return new FindingSpec($"scale-{i:x8}", Cve(g), $"i-{i:x17}", Events.Apps[g % Events.Apps.Length], Padding: 600 + (i * 7919) % 2000);
        }
    }
}
