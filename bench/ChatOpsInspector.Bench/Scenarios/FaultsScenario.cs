using System.Diagnostics;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// Scenario 5: (a) Redis killed for 5 s mid-ingest, (b) Slack failing 30 % of calls, (c) the bot
/// SIGKILLed mid-stream and restarted, (d) two bot instances on one Redis. Nothing may be lost,
/// no card may be posted twice.
/// </summary>
internal static class FaultsScenario
{
    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("faults");
        // COI_FAULTS=ad runs only parts a and d.
        var parts = Environment.GetEnvironmentVariable("COI_FAULTS") is { Length: > 0 } only ? only : "abcd";
        if (parts.Contains('a', StringComparison.Ordinal))
        {
            await RedisOutageAsync(report, options);
        }
        if (parts.Contains('b', StringComparison.Ordinal))
        {
            await FlakySlackAsync(report, options);
        }
        if (parts.Contains('c', StringComparison.Ordinal))
        {
            await BotKilledAsync(report, options);
        }
        if (parts.Contains('d', StringComparison.Ordinal))
        {
            await TwoInstancesAsync(report, options);
        }
        return report;
    }

    /// <summary>Findings in <paramref name="groups"/> groups over all apps, <paramref name="perGroup"/> resources each.</summary>
    private static FindingSpec Spec(string run, int i, int groups, int perGroup = 1, DateTimeOffset? firstObserved = null)
    {
        var g = i % groups;
        return new FindingSpec(
            FindingId: $"{run}-{i:x8}",
            Cve: $"CVE-2026-{20000 + g / Events.Apps.Length}",
            InstanceId: $"i-{i:x17}",
            App: Events.Apps[g % Events.Apps.Length],
            Padding: 600 + (i * 7919) % 3900,
            FirstObservedAt: firstObserved,
            UpdatedAt: firstObserved?.AddMinutes(5));
    }

    private static string GroupOf(FindingSpec s) => GroupIds.For(s.App, s.Cve);

    private static async Task RedisOutageAsync(Report report, BenchOptions options)
    {
        var count = options.Count ?? (options.Quick ? 3_000 : 10_000);
        await using var rig = await Rig.StartAsync(durableRedis: true);
        var bot = await rig.StartBotAsync();
        using var http = Load.Client(16);
        var sender = new RetryingSender(http, () => bot.BaseUrl, TimeSpan.FromSeconds(60));
        var specs = Enumerable.Range(0, count).Select(i => Spec("outage", i, 200)).ToArray();

        var outage = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            rig.Redis.Kill();
            var down = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(5));
            await rig.Redis.StartAsync();
            return down.Elapsed;
        });
        var result = await Load.RunAsync(count, 16, TimeSpan.FromSeconds(120), i => sender.SendAsync(i, Events.Bytes(specs[i])));
        var downFor = await outage;

        var refusedOnce = sender.Traces.Values.Count(t => t.Statuses.Any(s => s is 503 or 0));
        var got503 = sender.Traces.Values.Sum(t => t.Statuses.Count(s => s == 503));
        var finalAccepted = sender.Traces.Values.Count(t => t.Final == 202);
        var checks = specs.Select(s => rig.IsStoredAsync(Events.Arn(s.FindingId))).ToArray();
        var stored = (await Task.WhenAll(checks)).Count(x => x);
        var other = sender.Traces.Values.Count(t => t.Final is not 202);

        report.Add("5a events sent", count);
        report.Add("5a Redis down for (s)", Math.Round(downFor.TotalSeconds, 1));
        report.Add("5a events refused while down (503 or no answer), then retried", $"{refusedOnce:#,0} events, {got503:#,0} × 503");
        report.Check("5a events finally answered 202", finalAccepted, $"{count:#,0}", finalAccepted == count && other == 0);
        report.Check("5a events lost (answered 202 or retried, not stored)", count - stored, "0", stored == count);
        report.Add("5a send duration (s)", Math.Round(result.Elapsed.TotalSeconds, 1));
        var drained = await rig.WaitDrainedAsync(TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(3));
        var groups = specs.Select(GroupOf).Distinct().ToArray();
        var posts = rig.Slack.CardPosts;
        var once = groups.Count(g => posts.GetValueOrDefault(g) == 1);
        var lostCards = groups.Count(g => posts.GetValueOrDefault(g) == 0);
        var twice = groups.Count(g => posts.GetValueOrDefault(g) > 1);
        report.Check("5a cards posted once per group after recovery", $"{once}/{groups.Length} ({lostCards} never, {twice} more than once)", "all", once == groups.Length && drained);
    }

    private static async Task FlakySlackAsync(Report report, BenchOptions options)
    {
        await using var rig = await Rig.StartAsync();
        rig.Slack.FailureRate = 0.30;
        var bot = await rig.StartBotAsync();
        using var http = Load.Client(16);
        const int groupsCount = 200;
        var specs = Enumerable.Range(0, groupsCount * 2).Select(i => Spec("flaky", i, groupsCount)).ToArray();
        var result = await Load.RunAsync(specs.Length, 16, TimeSpan.FromSeconds(60), i => Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(specs[i])));
        var sw = Stopwatch.StartNew();
        var drained = await rig.WaitDrainedAsync(TimeSpan.FromSeconds(options.Quick ? 90 : 180), TimeSpan.FromSeconds(3));
        var groups = specs.Select(GroupOf).Distinct().ToArray();
        var posts = rig.Slack.CardPosts;
        var once = groups.Count(g => posts.GetValueOrDefault(g) == 1);
        var twice = groups.Count(g => posts.GetValueOrDefault(g) > 1);
        var db = await rig.DbAsync();
        var refs = (await Task.WhenAll(groups.Select(g => db.HashExistsAsync(Rig.Keys.Group(g), "card:slack")))).Count(x => x);

        report.Add("5b findings / groups", $"{result.Count(202):#,0} / {groups.Length}");
        report.Add("5b Slack calls answered 429 or 500", $"{rig.Slack.Injected:#,0} of {rig.Slack.Calls:#,0}");
        report.Check("5b cards posted exactly once", $"{once}/{groups.Length}", "all", once == groups.Length);
        report.Check("5b cards posted twice", twice, "0", twice == 0);
        report.Check("5b card refs stored", $"{refs}/{groups.Length}", "all", refs == groups.Length);
        report.Check("5b queue drained", drained ? $"yes, {sw.Elapsed.TotalSeconds - 3:0} s" : "no", "drained", drained);
    }

    private static async Task BotKilledAsync(Report report, BenchOptions options)
    {
        var count = options.Quick ? 2_000 : 6_000;
        await using var rig = await Rig.StartAsync();
        var port = RedisProcess.FreePort();
        var bot = await rig.StartBotAsync(port: port);
        using var http = Load.Client(16);
        var sender = new RetryingSender(http, () => $"http://127.0.0.1:{port}/", TimeSpan.FromSeconds(90));
        const int groupsCount = 400;
        var specs = Enumerable.Range(0, count).Select(i => Spec("kill", i, groupsCount)).ToArray();
        var killer = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            bot.Kill();
            var restart = Stopwatch.StartNew();
            await rig.StartBotAsync(port: port);
            return restart.Elapsed;
        });
        var result = await Load.RunAsync(count, 16, TimeSpan.FromSeconds(120), i => sender.SendAsync(i, Events.Bytes(specs[i])));
        var restartTook = await killer;
        var drained = await rig.WaitDrainedAsync(TimeSpan.FromSeconds(options.Quick ? 90 : 180), TimeSpan.FromSeconds(3));

        var db = await rig.DbAsync();
        var stored = (await Task.WhenAll(specs.Select(s => rig.IsStoredAsync(Events.Arn(s.FindingId))))).Count(x => x);
        var groups = specs.Select(GroupOf).Distinct().ToArray();
        var posts = rig.Slack.CardPosts;
        var missing = groups.Count(g => posts.GetValueOrDefault(g) == 0);
        var duplicated = groups.Count(g => posts.GetValueOrDefault(g) > 1);
        var interrupted = sender.Traces.Values.Count(t => t.Statuses.Any(s => s is 0 or 503));

        report.Add("5c events / groups", $"{count:#,0} / {groups.Length}");
        report.Add("5c events interrupted by the kill, then retried", interrupted);
        report.Add("5c restart to /healthz (s)", Math.Round(restartTook.TotalSeconds, 1));
        report.Check("5c findings lost", count - stored, "0", stored == count && result.Count(202) == count);
        report.Check("5c cards lost", missing, "0", missing == 0 && drained);
        report.Check("5c cards duplicated", duplicated, "0", duplicated == 0);
    }

    private static async Task TwoInstancesAsync(Report report, BenchOptions options)
    {
        await using var rig = await Rig.StartAsync();
        var fast = new Dictionary<string, string>
        {
            ["Sla:Scheduler:PollInterval"] = "00:00:00.500",
            ["Sla:Scheduler:ScanInterval"] = "00:00:01",
        };
        var a = await rig.StartBotAsync(fast);
        var b = await rig.StartBotAsync(fast);
        using var http = Load.Client(16);
        const int groupsCount = 300;
        // First seen 13 h ago: a critical finding's 24 h SLA is past its 50 % reminder, not yet at 90 %.
        var seen = DateTimeOffset.UtcNow.AddHours(-13);
        var specs = Enumerable.Range(0, groupsCount * 3).Select(i => Spec("pair", i, groupsCount, firstObserved: seen)).ToArray();
        var result = await Load.RunAsync(specs.Length, 16, TimeSpan.FromSeconds(60),
            i => Rig.PostEventAsync(http, (i % 2 == 0 ? a : b).BaseUrl, Events.Bytes(specs[i])));
        // Cards first (1/s per channel), then every group's reminder in its thread.
        await rig.WaitDrainedAsync(TimeSpan.FromSeconds(options.Quick ? 120 : 240), TimeSpan.FromSeconds(5));
        var remindersFrom = Stopwatch.StartNew();
        await HostileScenario.WaitAsync(() => rig.Slack.Notes.Count >= groupsCount, TimeSpan.FromSeconds(90));
        report.Add("5d reminders: time from cards drained to all delivered (s)", Math.Round(remindersFrom.Elapsed.TotalSeconds, 1));
        await rig.WaitDrainedAsync(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));

        var groups = specs.Select(GroupOf).Distinct().ToArray();
        var posts = rig.Slack.CardPosts;
        var once = groups.Count(g => posts.GetValueOrDefault(g) == 1);
        var notesPerGroup = rig.Slack.Notes.GroupBy(n => n.Group).ToDictionary(g => g.Key, g => g.ToList());
        var repeated = notesPerGroup.Sum(g => g.Value.Count - g.Value.Select(n => n.Text).Distinct().Count());
        var reminded = groups.Count(g => notesPerGroup.ContainsKey(g));

        report.Add("5d findings / groups, alternating between two bots", $"{result.Count(202):#,0} / {groups.Length}");
        report.Check("5d cards posted exactly once", $"{once}/{groups.Length}", "all", once == groups.Length);
        report.Check("5d groups that got their 50 % SLA reminder", $"{reminded}/{groups.Length}", "all", reminded == groups.Length);
        report.Check("5d reminders posted more than once", repeated, "0", repeated == 0);
        report.Add("5d thread notes in total", rig.Slack.Notes.Count);
        report.Check("5d notes posted outside a card's thread", posts.GetValueOrDefault("?"), "0", posts.GetValueOrDefault("?") == 0);
        var firstNote = rig.Slack.Notes.FirstOrDefault();
        report.Note($"a reminder: {firstNote.Text?[..Math.Min(140, firstNote.Text?.Length ?? 0)]}");
    }
}
