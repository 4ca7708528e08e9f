using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// Ingest rate of the three forms an Inspector finding arrives in, in one run against one bot: Inspector's
/// own event, Security Hub CSPM's ASFF copy and Security Hub's OCSF copy — each a stream of distinct
/// findings, then the three interleaved, then copies of findings already stored (the reconciliation path,
/// which reads the stored group before deciding).
/// </summary>
internal static class SourcesScenario
{
    private static readonly string[] Sources = ["native", "asff", "ocsf"];

    private static byte[] Body(string source, in FindingSpec spec) => source switch
    {
        "asff" => SecurityHubEvents.Asff(spec),
        "ocsf" => SecurityHubEvents.Ocsf(spec),
        _ => Events.Bytes(spec),
    };

    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("sources");
        var count = options.Count ?? (options.Quick ? 5_000 : 20_000);
        var concurrency = options.Concurrency ?? 64;
        var cap = options.Cap ?? TimeSpan.FromSeconds(120);

        await using var rig = await Rig.StartAsync();
        var bot = await rig.StartBotAsync();
        using var http = Load.Client(concurrency);
        var warm = options.WarmUp ?? (options.Quick ? 6_000 : 30_000);
        await Load.RunAsync(warm, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Body(Sources[i % 3], Events.Distinct($"warm-{Sources[i % 3]}", i))));
        await Task.Delay(1000);

        var rates = new List<string>();
        var sent = warm;
        foreach (var source in Sources)
        {
            var botCpu0 = bot.CpuTime();
            var result = await Load.RunAsync(count, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Body(source, Events.Distinct("run-" + source, i))));
            var cpuMs = (bot.CpuTime() - botCpu0).TotalMilliseconds / Math.Max(1, result.Done);
            sent += result.Done;
            report.AddLoad(source, result);
            report.Check($"{source}: every request 202", result.StatusText, "all 202", result.Count(202) == result.Done);
            report.Add($"{source}: bot CPU per event (ms)", Math.Round(cpuMs, 2));
            rates.Add($"{source} {result.PerSecond:#,0}/s");
        }

        var mixed = await Load.RunAsync(count, concurrency, cap, i => Rig.PostEventAsync(http, bot.BaseUrl, Body(Sources[i % 3], Events.Distinct("mix-" + Sources[i % 3], i))));
        sent += mixed.Done;
        report.AddLoad("interleaved native/asff/ocsf", mixed);

        // Security Hub's copies of findings Inspector already reported: same ARN, so each is read against
        // the stored group and kept only when it brings a newer status — one finding, not two.
        var copies = Math.Min(count, 10_000);
        var reconcile = await Load.RunAsync(copies, concurrency, cap, i =>
            Rig.PostEventAsync(http, bot.BaseUrl, Body(i % 2 == 0 ? "asff" : "ocsf", Events.Distinct("run-native", i) with { EventId = null })));
        report.AddLoad("asff/ocsf copies of stored native findings", reconcile);
        await Task.Delay(500);

        // A copy names the same ARN as the native event it copies, with Security Hub's older timestamp:
        // it must be counted as a duplicate, so the store still holds what was sent before.
        var stored = await rig.StoredFindingsAsync();
        report.Check("findings stored", stored, $"{sent:#,0} (every distinct 202; no copy stored twice)", stored == sent);
        report.Add("copies answered: statuses", reconcile.StatusText);
        report.Add("rates side by side", string.Join(" · ", rates));
        report.Add("bot working set (MB)", Math.Round(bot.WorkingSetBytes() / 1048576.0));
        report.Note($"{concurrency} concurrent senders, one event per request; {count:#,0} distinct findings per source after {warm:#,0} warm-up events of all three; "
            + "ASFF and OCSF bodies are the fixtures' public Security Hub samples varied per event (finding id, CVE, instance, owner tag)");
        return report;
    }
}
