using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Teams;

/// <summary>
/// Local Teams mode as Bot Builder defines it (JwtTokenValidation.AuthenticateRequest: no Authorization
/// header and IsAuthenticationDisabledAsync — no app id — means an anonymous local caller; see
/// https://github.com/microsoft/botbuilder-dotnet, Microsoft.Bot.Connector/Authentication/JwtTokenValidation.cs).
/// Agents Playground sends activities that way, with a loopback serviceUrl.
/// </summary>
public sealed class LocalDevelopmentAuthTests : IAsyncLifetime
{
    private BotFramework _bf = null!;

    public async Task InitializeAsync() => _bf = await BotFramework.StartAsync();

    public async Task DisposeAsync() => await _bf.DisposeAsync();

    /// <summary>Development, no app id, local mode on: the routing of the usual tests, minus every Teams credential.</summary>
    private Dictionary<string, string?> LocalSettings()
    {
        var settings = _bf.Settings(new() { ["Teams:LocalDevelopment"] = "true" });
        foreach (var key in new[] { "Teams:AppId", "Teams:AppPassword", "Teams:OpenIdMetadataUrl", "Teams:TokenEndpoint", "Teams:AllowedServiceUrls:0" })
        {
            settings.Remove(key);
        }
        return settings;
    }

    private IEnumerable<RecordedRequest> ConversationsCreated => _bf.Connector.Requests.Where(r => r.Method == "POST" && r.Path == "/v3/conversations");

    [Fact]
    public async Task InDevelopmentWithoutAppIdATokenlessLoopbackActivityIsAcceptedAndCardsAndRepliesGoToItsConnectorWithoutAToken()
    {
        await using var app = new TestApp(LocalSettings(), environment: "Development");

        Assert.Equal(HttpStatusCode.OK, (await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("local-1").ToJsonString())).StatusCode);
        await TestApp.Eventually(() => Task.FromResult(ConversationsCreated.Any()), "card posted to the loopback connector");
        Assert.Equal(HttpStatusCode.OK, (await BotFramework.SendAsync(app, _bf.ChannelMention("help"), token: null)).StatusCode);
        await TestApp.Eventually(() => Task.FromResult(_bf.Connector.To("/v3/conversations/").Any()), "reply to the loopback connector");

        Assert.Contains(app.Services.GetServices<IChatAdapter>(), a => a.Platform == "teams");
        Assert.All(_bf.Connector.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization"), $"{r.Method} {r.Path} carried a token"));
        Assert.Contains("application/vnd.microsoft.card.adaptive", ConversationsCreated.Single().Body, StringComparison.Ordinal);
        Assert.Empty(_bf.Login.Requests);
    }

    [Fact]
    public async Task InDevelopmentAnActivityWithAnAuthorizationHeaderIsStillValidatedAndABadTokenRefused()
    {
        await using var app = new TestApp(LocalSettings(), environment: "Development");

        var forged = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), _bf.Token(key: BotFramework.NewKey("key-1")));
        var tokenless = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, tokenless.StatusCode);  // the same activity, from the same caller, without the header
    }

    [Fact]
    public async Task InDevelopmentATokenlessActivityFromANonLoopbackAddressIsRefused()
    {
        // Kestrel sees the connection's remote address; the filter sets it as a router or NAT would present a remote caller.
        await using var app = new TestApp(LocalSettings(), services: s => s.AddSingleton<IStartupFilter>(new RemoteAddressFilter(IPAddress.Parse("203.0.113.7"))), environment: "Development");

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_bf.Connector.Requests);
    }

    [Fact]
    public async Task InDevelopmentATokenlessActivityRelayedByAProxyOrTunnelIsRefused()
    {
        await using var app = new TestApp(LocalSettings(), environment: "Development");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = new StringContent(_bf.BotAddedToTeam().ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Forwarded-For", "198.51.100.20");

        var response = await app.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task InDevelopmentATokenlessActivityNamingANonLoopbackServiceUrlIsRefused()
    {
        await using var app = new TestApp(LocalSettings(), environment: "Development");

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(serviceUrl: "https://smba.trafficmanager.net/amer/"), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task WithAnAppIdLocalModeDoesNotApplyAndATokenlessActivityIsRefused()
    {
        await using var app = new TestApp(_bf.Settings(new() { ["Teams:LocalDevelopment"] = "true" }), environment: "Development");

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.BotAddedToTeam())).StatusCode);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task OutsideDevelopmentStartUpRefusesLocalModeNamingTheKeys(string environment)
    {
        await using var app = new TestApp(LocalSettings(), environment: environment);

        var thrown = Assert.ThrowsAny<Exception>(() => app.Client());

        // Start-up may report the same refusal from more than one place (an AggregateException of them).
        var error = thrown as OptionsValidationException
            ?? Assert.IsType<OptionsValidationException>((thrown as AggregateException)?.InnerExceptions[0] ?? thrown.GetBaseException());

        Assert.Contains("Teams:LocalDevelopment", error.Message, StringComparison.Ordinal);
        Assert.Contains("Teams:AppId", error.Message, StringComparison.Ordinal);
        Assert.Contains("ASPNETCORE_ENVIRONMENT", error.Message, StringComparison.Ordinal);
        Assert.Contains(environment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InProductionWithoutLocalModeTheSameSettingsStartAndRefuseTokenlessActivities()
    {
        var settings = LocalSettings();
        settings["Teams:LocalDevelopment"] = "false";
        await using var app = new TestApp(settings, environment: "Production");

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain(app.Services.GetServices<IChatAdapter>(), a => a.Platform == "teams");
    }
}
