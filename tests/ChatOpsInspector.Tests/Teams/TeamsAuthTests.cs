using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Teams;

public sealed class TeamsAuthTests : IAsyncLifetime
{
    private BotFramework _bf = null!;

    public async Task InitializeAsync() => _bf = await BotFramework.StartAsync();

    public async Task DisposeAsync() => await _bf.DisposeAsync();

    [Fact]
    public async Task ValidlySignedActivityIsAccepted()
    {
        await using var app = new TestApp(_bf.Settings());

        var response = await _bf.SendAsync(app, _bf.BotAddedToTeam());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string> BadTokens => new() { "missing", "signature", "issuer", "audience", "expired", "serviceUrl", "garbage" };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task InvalidTokenIsRefusedWithoutDetail(string spoiled)
    {
        await using var app = new TestApp(_bf.Settings());
        var forged = BotFramework.NewKey("key-1");  // same kid as the published key, different private key
        var token = spoiled switch
        {
            "missing" => null,
            "signature" => _bf.Token(key: forged),
            "issuer" => _bf.Token(issuer: "https://sts.windows.net/evil/"),
            "audience" => _bf.Token(audience: "00000000-0000-0000-0000-000000000001"),
            "expired" => _bf.Token(expires: DateTime.UtcNow.AddMinutes(-10)),
            "serviceUrl" => _bf.Token(serviceUrl: "https://smba.trafficmanager.net/amer/other-tenant/"),
            _ => "not.a.jwt",
        };

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("detail", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("token", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TokenFromKeyNotEndorsedForTeamsIsRefused()
    {
        await using var app = new TestApp(_bf.Settings());
        var webchatOnly = BotFramework.NewKey("key-webchat");
        _bf.Publish(webchatOnly, "webchat");
        var activity = _bf.BotAddedToTeam();

        var response = await BotFramework.SendAsync(app, activity, _bf.Token(key: webchatOnly));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TokenSignedWithANewlyPublishedKeyIsAcceptedAfterOneMetadataRefresh()
    {
        await using var app = new TestApp(_bf.Settings());
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.BotAddedToTeam())).StatusCode);
        var rotated = BotFramework.NewKey("key-2");
        _bf.Publish(rotated);
        var keyFetches = _bf.Login.To("/keys").Count();

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), _bf.Token(key: rotated));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(keyFetches + 1, _bf.Login.To("/keys").Count());
    }

    [Fact]
    public async Task TenantOutsideTheAllowListIsForbidden()
    {
        await using var app = new TestApp(_bf.Settings(new() { ["Teams:AllowedTenants:0"] = "11111111-1111-1111-1111-111111111111" }));

        var response = await _bf.SendAsync(app, _bf.BotAddedToTeam());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task WithoutAppIdTheBotStartsInLocalModeAndRefusesActivities()
    {
        await using var app = new TestApp();

        var response = await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), _bf.Token());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain(app.Services.GetServices<IChatAdapter>(), a => a.Platform == "teams");
    }

    [Fact]
    public async Task ActivityFromAServiceUrlNotOnTheAllowListGetsNoTokenSent()
    {
        await using var app = new TestApp(_bf.Settings());
        var rogue = _bf.ChannelMention("help", serviceUrl: _bf.Rogue.BaseUrl);
        var honest = _bf.ChannelMention("help");

        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, rogue)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, honest)).StatusCode);

        // Messages are answered in order, so once the honest one is answered the rogue one was handled.
        await TestApp.Eventually(() => Task.FromResult(_bf.Connector.To("/v3/conversations/").Any()), "reply to the allowed connector");
        Assert.Empty(_bf.Rogue.Requests);
    }
}
