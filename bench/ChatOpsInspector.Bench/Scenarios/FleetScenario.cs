using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// A patch of a 2,000-instance group, approved in Slack, against a fake SSM on loopback: every
/// instance gets exactly one command (batches of 50), and the time from the approval to the last
/// SendCommand and the bot's CPU over that time are reported.
/// </summary>
internal static class FleetScenario
{
    private const string Requester = "UREQUESTER";
    private const string Approver = "UAPPROVER";

    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("fleet");
        var instances = options.Count ?? 2_000;
        var cap = options.Cap ?? TimeSpan.FromSeconds(180);
        const string app = "app03";
        const string cve = "CVE-2026-41414";

        await using var ssm = await FakeSsm.StartAsync();
        await using var rig = await Rig.StartAsync();
        var bot = await rig.StartBotAsync(new()
        {
            ["Aws:Ssm:ServiceUrl"] = ssm.BaseUrl,
            // The SDK's default chain reads these from the environment, as on a real host.
            ["AWS_ACCESS_KEY_ID"] = "AKIDBENCHFLEET000001",
            ["AWS_SECRET_ACCESS_KEY"] = "bench/fleet/secret",
        });
        using var http = Load.Client(32);

        var seeded = await Load.RunAsync(instances, 32, TimeSpan.FromSeconds(120), i =>
            Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(new FindingSpec(
                FindingId: $"fleet-{i:x8}", Cve: cve, InstanceId: $"i-{i:x17}", App: app, Padding: 600))));
        await rig.WaitDrainedAsync(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2));
        var groupId = GroupIds.For(app, cve);
        var channel = Events.ChannelOf(app);

        await PressAsync(http, bot, rig, Requester, "patch:" + groupId, groupId, channel, "req");
        var deadline = DateTime.UtcNow + cap;
        string? requestId = null;
        while (DateTime.UtcNow < deadline && (requestId = await PendingRequestAsync(rig, groupId)) is null)
        {
            await Task.Delay(100);
        }
        report.Check("request checked against SSM", requestId is null ? "no" : "yes", "yes", requestId is not null);
        if (requestId is null)
        {
            return report;
        }

        var cpu0 = bot.CpuTime();
        var started = Stopwatch.GetTimestamp();
        var answered = await PressAsync(http, bot, rig, Approver, "approve:" + groupId, $"{groupId}:{requestId}", channel, "app");
        var answerMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var batches = (instances + 49) / 50;
        while (DateTime.UtcNow < deadline && ssm.Commands < batches)
        {
            await Task.Delay(20);
        }
        // Any command past the expected number would be a second command to some instance.
        await Task.Delay(2000);
        var lastMs = ssm.LastCommandTimestamp == 0 ? double.NaN : Stopwatch.GetElapsedTime(started, ssm.LastCommandTimestamp).TotalMilliseconds;
        var cpu = bot.CpuTime() - cpu0;

        var perInstance = ssm.CommandsPerInstance;
        var exactlyOnce = Enumerable.Range(0, instances).Count(i => perInstance.GetValueOrDefault($"i-{i:x17}") == 1);
        report.Add("findings ingested", seeded.Count(202));
        report.Check("approval answered (HTTP)", $"{answered} in {answerMs:0} ms", "200, < 3,000 ms", answered == 200 && answerMs < 3000);
        report.Check("SendCommand calls", ssm.Commands, $"{batches} (50 instances each)", ssm.Commands == batches && ssm.Refused == 0);
        report.Check("instances with exactly one command", exactlyOnce, $"{instances:#,0}", exactlyOnce == instances && perInstance.Count == instances);
        report.Add("approval → last SendCommand (ms)", Math.Round(lastMs));
        report.Add("bot CPU from approval to last command + 2 s (ms)", Math.Round(cpu.TotalMilliseconds));
        report.Add("DescribeInstanceInformation calls", ssm.Operations.GetValueOrDefault("AmazonSSM.DescribeInstanceInformation"));
        foreach (var answer in rig.Slack.ResponseUrlBodies.Take(4))
        {
            report.Note("answer in Slack: " + (answer.Length > 200 ? answer[..200] : answer));
        }
        report.Note($"{instances:#,0} instances of {cve} for owner {app}; request and approval as signed Slack block_actions; SSM on loopback answers at once");
        return report;
    }

    private static async Task<int> PressAsync(HttpClient http, BotProcess bot, Rig rig, string user, string actionId, string value, string channel, string tag)
    {
        var payload = JsonNode.Parse(InteractionsScenario.BlockAction(user, "", channel, rig.Slack.ResponseUrl($"fleet-{tag}"), $"trig-fleet-{tag}"))!;
        payload["actions"]![0]!["action_id"] = actionId;
        payload["actions"]![0]!["value"] = value;
        using var request = SlackSigner.Request(bot.BaseUrl + "api/slack/interactions", "payload=" + Uri.EscapeDataString(payload.ToJsonString()));
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>The pending request's id once the bot has checked SSM and opened it for approval.</summary>
    private static async Task<string?> PendingRequestAsync(Rig rig, string groupId)
    {
        var db = await rig.DbAsync();
        var wf = await db.HashGetAsync(Rig.Keys.Group(groupId), "wf");
        if (wf.IsNull)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(wf.ToString());
        return doc.RootElement.TryGetProperty("patch", out var patch) && patch.ValueKind == JsonValueKind.Object
            && !(patch.TryGetProperty("checking", out var checking) && checking.GetBoolean())
            && patch.TryGetProperty("instanceIds", out var ids) && ids.GetArrayLength() > 0
            && patch.TryGetProperty("id", out var id)
            ? id.GetString()
            : null;
    }
}
