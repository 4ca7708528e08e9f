using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Resilience;

public sealed class HostileInputTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static string Valid(string id) => FindingEvents.Ec2($"hostile-{id}", eventId: $"evt-{id}").ToJsonString();

    private static string Mutate(string id, string from, string to)
    {
        var json = Valid(id);
        Assert.Contains(from, json);
        return json.Replace(from, to, StringComparison.Ordinal);
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    public static TheoryData<string, byte[], string?, int> Corpus() => new()
    {
        { "no API key", U(Valid("nokey")), null, 401 },
        { "wrong API key", U(Valid("wrongkey")), TestApp.ApiKey + "x", 401 },
        { "empty body", [], TestApp.ApiKey, 400 },
        { "truncated JSON", U(Valid("trunc")[..900]), TestApp.ApiKey, 400 },
        { "not JSON", U("<script>alert(1)</script>"), TestApp.ApiKey, 400 },
        { "JSON null", U("null"), TestApp.ApiKey, 400 },
        { "1,001 events", U("[" + string.Join(',', Enumerable.Repeat("{}", 1001)) + "]"), TestApp.ApiKey, 400 },
        { "one bad event in a batch", U($"[{Valid("good")},{Mutate("bad", "\"severity\":\"CRITICAL\"", "\"severity\":7")}]"), TestApp.ApiKey, 400 },
        { "unknown severity", U(Mutate("sev", "\"severity\":\"CRITICAL\"", "\"severity\":\"APOCALYPTIC\"")), TestApp.ApiKey, 400 },
        { "score is a word", U(Mutate("score", "\"inspectorScore\":9.8", "\"inspectorScore\":\"high\"")), TestApp.ApiKey, 400 },
        { "score overflows", U(Mutate("big", "\"inspectorScore\":9.8", "\"inspectorScore\":1e400")), TestApp.ApiKey, 400 },
        // A complete EventBridge event of another source is accepted and ignored (a 4xx would dead-letter it) ...
        { "another source", U(Mutate("src", "\"source\":\"aws.inspector2\"", "\"source\":\"evil.corp\"")), TestApp.ApiKey, 202 },
        // ... but without account and region it is not an AWS event at all.
        { "another source, not an AWS event", U(Mutate("src2", "\"source\":\"aws.inspector2\"", "\"source\":\"evil.corp\"").Replace("\"account\"", "\"acct\"", StringComparison.Ordinal)), TestApp.ApiKey, 400 },
        { "deep nesting", U(new string('[', 5000) + new string(']', 5000)), TestApp.ApiKey, 400 },
        { "invalid UTF-8 between tokens", [0xC3, 0x28, 0xFF, .. U(Valid("utf8"))], TestApp.ApiKey, 400 },
        { "lone surrogate escape", U(Mutate("sur", FindingEvents.Arn("hostile-sur"), FindingEvents.Arn("hostile-sur") + "\\ud800")), TestApp.ApiKey, 400 },
        { "control characters in the ARN", U(Mutate("ctl", FindingEvents.Arn("hostile-ctl"), FindingEvents.Arn("hostile-ctl") + "\\u0000\\u001b[31m")), TestApp.ApiKey, 400 },
        { "2 MiB body", U("[" + new string(' ', 2 * 1024 * 1024) + "]"), TestApp.ApiKey, 413 },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task BadInputGetsItsStatusStoresNothingAndLeavesTheBotUp(string name, byte[] body, string? apiKey, int expected)
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        var client = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/inspector/events") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        var response = await client.SendAsync(request);

        Assert.True(expected == (int)response.StatusCode, $"{name}: {(int)response.StatusCode}, expected {expected}");
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(Valid("after-" + name.Length))).StatusCode);
    }
}
