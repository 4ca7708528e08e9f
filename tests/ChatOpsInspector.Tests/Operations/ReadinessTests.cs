using System.Net;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Operations;

public sealed class ReadinessTests
{
    [Fact]
    public async Task WithoutConfigurationTheBotRunsInLocalModeAndServes()
    {
        await using var app = new TestApp();
        var client = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        Assert.IsType<InMemoryStore>(app.Service<IAlertStore>());
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("local-1").ToJsonString())).StatusCode);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("coi_events_accepted_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadinessIs503WhileRedisIsDownAndRecoversWhenItReturns()
    {
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        await using var app = new TestApp(TestApp.WithRedis(redis));
        var client = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        Assert.IsType<RedisStore>(app.Service<IAlertStore>());
        redis.Stop();
        await TestApp.Eventually(async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable, "readyz 503");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var refused = await app.PostEventsAsync(FindingEvents.Ec2("down-1").ToJsonString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);

        await redis.StartAsync();
        await TestApp.Eventually(async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "readyz recovers", 20_000);
        await TestApp.Eventually(async () => (await app.PostEventsAsync(FindingEvents.Ec2("down-1").ToJsonString())).StatusCode == HttpStatusCode.Accepted,
            "ingest recovers", 20_000);
        Assert.Single(await app.Service<IAlertStore>().OwnersAsync(default));
    }
}
