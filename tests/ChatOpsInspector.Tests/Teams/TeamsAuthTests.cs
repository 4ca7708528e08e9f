using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

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

    /// <summary>
    /// Bot Builder (JwtTokenExtractor / EndorsementsValidator) refuses a token whose key lists no
    /// endorsements; the old check let such a key sign for any channel. The token is otherwise valid,
    /// so the refusal is for the missing endorsements, and the install it carried is not remembered.
    /// </summary>
    [Fact]
    public async Task TokenFromAKeyWithNoEndorsementsIsRefused()
    {
        await using var app = new TestApp(_bf.Settings());
        var bare = BotFramework.NewKey("key-bare");
        _bf.PublishWithoutEndorsements(bare);
        var activity = _bf.BotAddedToTeam(channel: "19:bare@thread.tacv2");

        var response = await BotFramework.SendAsync(app, activity, _bf.Token(key: bare));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await app.Service<ConversationReferences>().ChannelAsync("19:bare@thread.tacv2", default));
    }

    /// <summary>
    /// A token signed with the published private key but naming a kid the key set does not hold (or no kid):
    /// IdentityModel would try every key and accept it; Bot Builder looks the key up by kid and refuses.
    /// </summary>
    [Theory]
    [InlineData("kid-not-in-the-set")]
    [InlineData(null)]
    public async Task TokenWhoseKidIsNotInTheKeySetIsRefused(string? kid)
    {
        await using var app = new TestApp(_bf.Settings());
        var sameKeyOtherKid = new RsaSecurityKey(_bf.SigningKey.Rsa) { KeyId = kid };
        var activity = _bf.BotAddedToTeam(channel: "19:kid@thread.tacv2");

        var response = await BotFramework.SendAsync(app, activity, _bf.Token(key: sameKeyOtherKid));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await app.Service<ConversationReferences>().ChannelAsync("19:kid@thread.tacv2", default));
        // The same activity with the key's own kid is accepted: the kid alone made the difference.
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, activity)).StatusCode);
    }

    [Fact]
    public async Task ActivityWithoutChannelIdIsRefused()
    {
        await using var app = new TestApp(_bf.Settings());
        var activity = _bf.BotAddedToTeam(channel: "19:nochannel@thread.tacv2");
        activity.Remove("channelId");

        var response = await _bf.SendAsync(app, activity);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await app.Service<ConversationReferences>().ChannelAsync("19:nochannel@thread.tacv2", default));
    }

    /// <summary>
    /// /api/messages serves Teams only: a webchat activity is refused even when its key is endorsed for
    /// webchat (and for Teams), so a Web Chat or Direct Line user cannot act as a Teams user.
    /// </summary>
    [Theory]
    [InlineData("webchat")]
    [InlineData("webchat,msteams")]
    public async Task OtherBotFrameworkChannelsAreNotServed(string endorsedFor)
    {
        await using var app = new TestApp(_bf.Settings());
        var key = BotFramework.NewKey("key-" + endorsedFor);
        _bf.Publish(key, endorsedFor.Split(','));
        var activity = _bf.BotAddedToTeam(channel: "19:webchat@thread.tacv2");
        activity["channelId"] = "webchat";

        var response = await BotFramework.SendAsync(app, activity, _bf.Token(key: key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await app.Service<ConversationReferences>().ChannelAsync("19:webchat@thread.tacv2", default));
    }

    [Fact]
    public async Task TenantNamedDifferentlyInConversationAndChannelDataIsForbidden()
    {
        await using var app = new TestApp(_bf.Settings(new() { ["Teams:AllowedTenants:0"] = BotFramework.ForeignTenantId }));
        var activity = _bf.BotAddedToTeam(channel: "19:mixed@thread.tacv2");
        activity["channelData"]!["tenant"]!["id"] = BotFramework.ForeignTenantId;

        var response = await _bf.SendAsync(app, activity);

        // Both tenants are allowed on their own; only their disagreement is refused.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(await app.Service<ConversationReferences>().ChannelAsync("19:mixed@thread.tacv2", default));
    }

    /// <summary>Without Teams:AllowedTenants only the bot's own tenant (Teams:TenantId) is served, never any tenant.</summary>
    [Fact]
    public async Task ByDefaultOnlyTheBotsOwnTenantIsServed()
    {
        await using var app = new TestApp(_bf.Settings());
        var activity = _bf.BotAddedToTeam(channel: "19:foreign@thread.tacv2");
        activity["conversation"]!["tenantId"] = BotFramework.ForeignTenantId;
        activity["channelData"]!["tenant"]!["id"] = BotFramework.ForeignTenantId;

        var response = await _bf.SendAsync(app, activity);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(await app.Service<ConversationReferences>().ChannelAsync("19:foreign@thread.tacv2", default));
    }

    [Theory]
    [InlineData(null, "Teams:TenantId is required")]
    [InlineData("*", "'*' is not a tenant id")]
    public void TeamsAppIdWithoutATenantFailsAtStartupNamingTheKey(string? tenant, string message)
    {
        var settings = _bf.Settings();
        settings.Remove("Teams:TenantId");
        if (tenant is not null)
        {
            settings["Teams:AllowedTenants:0"] = tenant;
        }
        using var app = new TestApp(settings);

        var error = Assert.ThrowsAny<Exception>(() => app.Client());

        var validation = Assert.IsType<OptionsValidationException>(error.GetBaseException());
        Assert.Contains(validation.Failures, f => f.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TenantOutsideTheAllowListIsForbidden()
    {
        var settings = _bf.Settings(new() { ["Teams:AllowedTenants:0"] = "11111111-1111-1111-1111-111111111111" });
        settings.Remove("Teams:TenantId");
        await using var app = new TestApp(settings);

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
