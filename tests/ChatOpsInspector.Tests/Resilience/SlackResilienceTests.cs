using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;

namespace ChatOpsInspector.Tests.Resilience;

/// <summary>The fault and hostile scenarios against the real Slack adapter and request verification.</summary>
public sealed class SlackResilienceTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static string Event(int i, int groups) => FindingEvents.Ec2(
        $"slack-flaky-{i}", cve: $"CVE-2098-{100 + i % groups}", instanceId: $"i-{i:x17}",
        tags: new Dictionary<string, string> { ["app"] = "payments" }).ToJsonString();

    [Fact]
    public async Task EveryCardIsPostedExactlyOnceWhenSlackAnswers429And500()
    {
        await using var slack = await SlackFake.StartAsync();
        await using var app = new TestApp(TestApp.WithRedis(redis, SlackApp.Settings(slack)));
        const int groups = 20, failures = 9;
        // About 30 % of the card posts fail, alternately throttled and broken.
        for (var i = 0; i < failures; i++)
        {
            if (i % 2 == 0)
            {
                slack.FailNext("chat.postMessage", 429, retryAfter: "0", body: """{"ok":false,"error":"ratelimited"}""");
            }
            else
            {
                slack.FailNext("chat.postMessage", 500, body: "upstream error");
            }
        }
        var batch = new JsonArray(Enumerable.Range(0, groups * 2).Select(i => JsonNode.Parse(Event(i, groups))).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(batch.ToJsonString())).StatusCode);

        var store = app.Service<IAlertStore>();
        var ids = Enumerable.Range(0, groups).Select(g => GroupIds.For("payments", $"CVE-2098-{100 + g}")).ToArray();
        await TestApp.Eventually(async () =>
        {
            foreach (var id in ids)
            {
                if ((await store.GetGroupAsync(id, default))?.Cards.ContainsKey("slack") != true)
                {
                    return false;
                }
            }
            return true;
        }, "a stored Slack card for every group", 20_000);
        var queue = app.Service<IWorkQueue>();
        await TestApp.Eventually(async () => await queue.CountAsync(Queues.Groups, default) == 0, "group queue drained");

        // Each failed call was retried once; any duplicate card would show up as an extra post.
        var cardPosts = slack.Calls("chat.postMessage").Count(c => c["thread_ts"] is null);
        Assert.Equal(groups + failures, cardPosts);
    }

    [Fact]
    public async Task ForgedStaleReplayedAndMalformedSlackRequestsChangeNothingAndNeverFail()
    {
        await using var slack = await SlackFake.StartAsync();
        await using var app = new TestApp(TestApp.WithRedis(redis, SlackApp.Settings(slack)));
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(Event(0, 1))).StatusCode);
        var group = GroupIds.For("payments", "CVE-2098-100");
        var client = app.Client();
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        payload["actions"]![0]!["action_id"] = "ack";
        payload["actions"]![0]!["value"] = group;
        payload["response_url"] = slack.NewResponseUrl();
        // Pressed on the card in the owner's channel, where its alerts may be acted on.
        payload["channel"]!["id"] = SlackApp.PaymentsChannel;
        payload["container"]!["channel_id"] = SlackApp.PaymentsChannel;
        var ack = SlackSigner.Form(("payload", payload.ToJsonString()));
        const string form = "application/x-www-form-urlencoded";

        async Task<HttpStatusCode> Send(string body, string secret = SlackApp.Secret, DateTimeOffset? at = null, string path = "/api/slack/interactions") =>
            (await client.SendAsync(SlackSigner.Signed(path, body, form, secret, at))).StatusCode;

        Assert.Equal(HttpStatusCode.Unauthorized, await Send(ack, secret: "forged-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(ack, at: DateTimeOffset.UtcNow.AddMinutes(-10)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(ack, at: DateTimeOffset.UtcNow.AddMinutes(10)));
        Assert.Equal(HttpStatusCode.BadRequest, await Send("payload=%7Bnot-json"));
        Assert.Equal(HttpStatusCode.BadRequest, await Send(SlackSigner.Form(("payload", """{"type":"block_actions","team":{"id":"T9TK3CUKW"},"user":"U1","actions":[]}"""))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await Send("payload=" + new string('a', 300 * 1024)));
        Assert.Equal(HttpStatusCode.OK, await Send(ack));
        Assert.Equal(HttpStatusCode.OK, await Send(ack));

        var audit = app.Service<IAuditLog>();
        // The bot's own lifecycle records (detected, alerted) are in the stream too; only a person's are counted.
        static IEnumerable<AuditRecord> ByPeople(IEnumerable<AuditRecord> records) =>
            records.Where(r => r.ActorId != ChatOpsInspector.Workflow.Actor.System.UserId);
        await TestApp.Eventually(async () => ByPeople(await audit.ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100, default)).Any(), "the genuine click is audited");
        // Both genuine clicks have been worked off once the Slack work queue is empty (claimed items stay counted).
        await TestApp.Eventually(async () => await app.Service<IWorkQueue>().CountAsync(ChatOpsInspector.Slack.SlackWorkQueue.Name, default) == 0, "Slack work drained");
        var records = await audit.ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100, default);
        var only = Assert.Single(ByPeople(records));
        Assert.Equal("acknowledged", only.Action);
        Assert.Equal(group, only.GroupId);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
