using System.Net;
using System.Text;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Slack;

[Collection(SlackCollection.Name)]
public class SlackRequestVerificationTests(SlackApp slack)
{
    private const string Body = "token=x&user_id=UALICE0001&text=help&response_url=x&trigger_id=t";

    public static TheoryData<string> Endpoints => new() { "/api/slack/commands", "/api/slack/interactions", "/api/slack/events" };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task UnsignedRequestIsRejectedWithoutDetail(string path)
    {
        var response = await slack.App.Client().PostAsync(path, new StringContent(Body, Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("detail", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task TamperedBodyIsRejected(string path)
    {
        var request = SlackSigner.Signed(path, Body, "application/x-www-form-urlencoded", SlackApp.Secret);
        request.Content = new StringContent(Body + "&text=stats", Encoding.UTF8, "application/x-www-form-urlencoded");
        var response = await slack.App.Client().SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task ExpiredSlackTimestampIsRejected(string path)
    {
        var response = await slack.SendAsync(path, Body, "application/x-www-form-urlencoded", at: DateTimeOffset.UtcNow.AddMinutes(-6));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task WrongSigningSecretIsRejected()
    {
        var response = await slack.SendAsync("/api/slack/commands", Body, "application/x-www-form-urlencoded", secret: "not-the-secret");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task OversizedBodyIsRefusedBeforeItIsRead()
    {
        var response = await slack.SendAsync("/api/slack/events", new string('x', 300 * 1024), "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}

public class SlackLocalModeTests
{
    [Fact]
    public async Task WithoutABotTokenTheBotStartsWithoutSlackAndRefusesSlackRequests()
    {
        await using var app = new TestApp();
        var client = app.Client();

        Assert.Empty(app.Services.GetServices<IChatAdapter>());
        var response = await client.SendAsync(SlackSigner.Signed("/api/slack/events", "{}", "application/json", "any-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
