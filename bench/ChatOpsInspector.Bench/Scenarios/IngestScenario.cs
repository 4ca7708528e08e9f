using System.Diagnostics;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// Scenario 2: a sustained stream of distinct critical findings, one EventBridge event per request
/// (as API destinations send them), against the bot with Redis on the same machine.
/// </summary>
internal static class IngestScenario
{
    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("ingest");
        var count = options.Count ?? (options.Quick ? 20_000 : 100_000);
        var concurrency = options.Concurrency ?? 64;
        var cap = options.Cap ?? TimeSpan.FromSeconds(180);

        var ceiling = await CeilingScenario.MeasureAsync(count, concurrency, cap, report);

        await using var rig = await Rig.StartAsync();
        var bot = await rig.StartBotAsync();
        using var http = Load.Client(concurrency);
        // Long enough for the runtime's tiered compilation to settle (its thread stops showing CPU after
        // about 20 s of load); shorter, a quarter of the bot's CPU still goes to recompiling hot code.
        var warm = options.WarmUp ?? (options.Quick ? 5_000 : 60_000);
        await Load.RunAsync(warm, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(Events.Distinct("warm", i))));
        await Task.Delay(1000);

        var before = await rig.Redis.CountersAsync();
        var redisCpu0 = await rig.Redis.CpuSecondsAsync();
        var botCpu0 = bot.CpuTime();
        var self0 = Process.GetCurrentProcess().TotalProcessorTime;
        var result = await Load.RunAsync(count, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(Events.Distinct("run", i))));
        var after = await rig.Redis.CountersAsync();
        var seconds = result.Elapsed.TotalSeconds;
        var botCores = (bot.CpuTime() - botCpu0).TotalSeconds / seconds;
        var redisCores = (await rig.Redis.CpuSecondsAsync() - redisCpu0) / seconds;
        var selfCores = (Process.GetCurrentProcess().TotalProcessorTime - self0).TotalSeconds / seconds;
        var rss = bot.WorkingSetBytes();
        var stored = await rig.StoredFindingsAsync();
        var delta = after.Since(before);
        var accepted = result.Count(202);

        report.AddLoad("ceiling", ceiling);
        report.AddLoad("ingest", result);
        report.Check("findings/s", Math.Round(accepted / seconds), "≥ 5,000", accepted / seconds >= 5000);
        var ratio = result.PerSecond / ceiling.PerSecond;
        report.Check("share of ceiling", $"{ratio:P0}", "≥ 30%", ratio >= 0.30);
        report.Check("p99 accept latency, closed loop (ms)", Math.Round(result.Ms(0.99), 1), "< 50", result.Ms(0.99) < 50);

        // The closed loop keeps 64 requests queued, so its latency is mostly queueing (Little's law).
        // Paced at half the rate just measured, the latency is the bot's own.
        var paceRate = Math.Max(100, Math.Round(result.PerSecond / 2));
        var pacedCount = (int)Math.Min(count / 4, paceRate * 15);
        var paced = await PacedLoad.RunAsync(pacedCount, paceRate, i => Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(Events.Distinct("paced", i))));
        report.Add($"paced at {paceRate:#,0}/s: p50 / p90 / p99 / max (ms)", $"{paced.Ms(0.50):0.0} / {paced.Ms(0.90):0.0} / {paced.Ms(0.99):0.0} / {paced.MaxMs:0.0}");
        report.Check("p99 accept latency, paced at half the max rate (ms)", Math.Round(paced.Ms(0.99), 1), "< 50", paced.Ms(0.99) < 50);
        report.Add("  generator lateness when paced: p50 / p99 (ms)", $"{paced.LatenessMs(0.50):0.0} / {paced.LatenessMs(0.99):0.0}");
        report.Check("findings stored", stored, $"{warm + accepted:#,0} (every 202)", stored == warm + accepted);
        report.Add("Redis commands executed per finding (server side, incl. inside Lua and the dispatcher)", Math.Round((double)delta.Total / Math.Max(1, accepted), 1));

        // Round trips on the wire: a second bot whose Redis connection goes through a counting relay,
        // on its own key prefix so its dispatcher finds nothing at start and then sleeps: every command
        // it sends belongs to ingest.
        await using (var proxy = new RedisCountingProxy(rig.Redis.Port))
        {
            var probe = await rig.StartBotAsync(new Dictionary<string, string>
            {
                ["State:Redis"] = proxy.ConnectionString,
                ["State:KeyPrefix"] = "probe:",
                ["Dispatch:PollInterval"] = "01:00:00",
                ["Sla:Scheduler:PollInterval"] = "01:00:00",
                ["Sla:Scheduler:ScanInterval"] = "01:00:00",
                ["Slack:WorkPollInterval"] = "01:00:00",
            });
            await Task.Delay(1500);
            const int probeCount = 2_000;
            var p0 = proxy.Snapshot();
            var probeRun = await Load.RunAsync(probeCount, 16, cap, i => Rig.PostEventAsync(http, probe.BaseUrl, Events.Bytes(Events.Distinct("probe", i))));
            await Task.Delay(200);
            var p1 = proxy.Snapshot();
            var sent = p1.ToDictionary(c => c.Key, c => c.Value - p0.GetValueOrDefault(c.Key)).Where(c => c.Value > 0).ToDictionary();
            var trips = (double)sent.Values.Sum() / Math.Max(1, probeRun.Count(202));
            report.Check("Redis round trips per new finding (on the wire)", Math.Round(trips, 2), "≤ 2", trips <= 2);
            report.Add("  commands sent for 2,000 findings", string.Join(", ", sent.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value:#,0}")));
            probe.Kill();
        }
        report.Check($"bot working set after {warm + count:#,0} findings (MB)", Math.Round(rss / 1048576.0), "< 200", rss < 200L * 1048576);
        report.Add("CPU cores used: bot / redis / generator", $"{botCores:0.00} / {redisCores:0.00} / {selfCores:0.00}");
        report.Add("bot log lines", bot.LogLines);
        var categories = bot.Tail().Split('\n').Where(l => l.Length > 6 && l[4] == ':' && l[5] == ' ').GroupBy(l => l.Split('[')[0]).OrderByDescending(g => g.Count()).Take(3);
        report.Add("most frequent log lines (last 200)", string.Join(", ", categories.Select(g => $"{g.Key.Trim()} ×{g.Count()}")));
        report.Note($"{concurrency} concurrent senders, one 4–8 KB event per request, {Events.Apps.Length} owners, 500 CVEs each; Slack fake attached, dispatcher running");
        return report;
    }
}
