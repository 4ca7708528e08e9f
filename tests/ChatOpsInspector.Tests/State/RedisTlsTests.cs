using System.Net;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.State;

/// <summary>
/// TLS with a private CA and a password, as a self-managed Redis or MemoryDB behind a corporate CA is
/// reached: a real redis-server on a TLS-only loopback port, with a certificate signed by a CA made here.
/// </summary>
public sealed class RedisTlsTests(TlsRedisServer server) : IClassFixture<TlsRedisServer>
{
    private string CaFile => server.CaFile;

    private string Connection => server.Connection;

    [Fact]
    public async Task WithTheCaFileAndPasswordTheBotIsReadyAndStores()
    {
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = Connection,
            ["State:CaFile"] = CaFile,
            ["State:Password"] = TlsRedisServer.Password,
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        });
        await TestApp.Eventually(async () => (await app.Client().GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "ready over TLS");
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("tls-1").ToJsonString())).StatusCode);
        Assert.Single(await app.Service<ChatOpsInspector.State.IAlertStore>().OwnersAsync(default));
    }

    [Fact]
    public async Task WithoutTheCaFileTheServerIsNotTrustedAndTheBotIsNotReady()
    {
        // Same server and password: only the CA is missing, so the refusal is the untrusted certificate.
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = Connection,
            ["State:Password"] = TlsRedisServer.Password,
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client().GetAsync("/readyz")).StatusCode);
        var answer = await app.PostEventsAsync(FindingEvents.Ec2("tls-2").ToJsonString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.NotNull(answer.Headers.RetryAfter);
    }

    [Fact]
    public async Task AWrongPasswordIsNotReady()
    {
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = Connection,
            ["State:CaFile"] = CaFile,
            ["State:Password"] = "wrong-pass",
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client().GetAsync("/readyz")).StatusCode);
    }
}
