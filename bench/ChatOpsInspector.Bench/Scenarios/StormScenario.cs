using ChatOpsInspector.Alerts;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// Scenario 3: 10,000 findings of one CVE across 2,000 instances of one owner, as fast as possible.
/// One card, coalesced updates at most about once a second per channel, everything stored, queues drained.
/// </summary>
internal static class StormScenario
{
    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("storm");
        var count = options.Count ?? 10_000;
        var instances = Math.Max(1, count / 5);
        var concurrency = options.Concurrency ?? 64;
        const string app = "app07";
        const string cve = "CVE-2026-31337";

        await using var rig = await Rig.StartAsync();
        rig.Slack.KeepBodies = true;
        var bot = await rig.StartBotAsync();
        using var http = Load.Client(concurrency);
        var result = await Load.RunAsync(count, concurrency, options.Cap ?? TimeSpan.FromSeconds(120), i =>
            Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(new FindingSpec(
                FindingId: $"storm-{i:x8}",
                Cve: cve,
                InstanceId: $"i-{i % instances:x17}",
                App: app,
                Padding: 600 + (i * 7919) % 3900))));
        var ingestEnd = DateTime.UtcNow;
        var drained = await rig.WaitDrainedAsync(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(3));
        var drainSeconds = (DateTime.UtcNow - ingestEnd).TotalSeconds - 3;

        var groupId = GroupIds.For(app, cve);
        var db = await rig.DbAsync();
        var members = await db.HashLengthAsync(Rig.Keys.Members(groupId));
        var posts = rig.Slack.CardPosts;
        var updates = rig.Slack.Updates.GetValueOrDefault(groupId);

        report.AddLoad("storm ingest", result);
        report.Check("cards posted for the CVE", posts.GetValueOrDefault(groupId), "exactly 1", posts.GetValueOrDefault(groupId) == 1 && posts.Count == 1);
        report.Add("card updates (coalesced)", updates);
        report.Check("max Slack calls per channel per second", rig.Slack.MaxCallsPerChannelSecond, "≤ 1", rig.Slack.MaxCallsPerChannelSecond <= 1);
        report.Check("findings stored in the group", members, $"{count:#,0}", members == result.Count(202) && result.Count(202) == count);
        report.Check("outbound queue drained", drained ? $"yes, {Math.Max(0, drainSeconds):0.0} s after the last event" : "no (60 s)", "drained", drained);
        report.Check("429 answers from Slack", rig.Slack.Injected, "0", rig.Slack.Injected == 0);
        var last = rig.Slack.CardBodies.LastOrDefault() ?? "";
        var showsAll = last.Contains($"{instances:#,0}", StringComparison.Ordinal) || last.Contains(instances.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        report.Check("last card shows every instance", showsAll ? $"{instances:#,0} instances" : "count not found in last card", $"{instances:#,0}", showsAll);
        report.Note($"{count:#,0} findings of {cve} on {instances:#,0} instances for owner {app}; {concurrency} concurrent senders; Dispatch:ChannelInterval at its 1 s default");
        return report;
    }
}
