using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Slack;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Alerts;

/// <summary>
/// Group ids are 128-bit, so two owners' groups cannot collide and merge, and they stay within what
/// Slack allows in an action_id (255 characters) and a button value (2,000) — Slack Block Kit reference,
/// "Button element".
/// </summary>
public sealed class GroupIdsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public void IdsCarryAtLeast96BitsAsLowerCaseHex()
    {
        var id = GroupIds.For("payments", "CVE-2026-0001");
        Assert.Equal(32, id.Length);
        Assert.True(id.Length * 4 >= 96);
        Assert.All(id, c => Assert.True(char.IsAsciiHexDigitLower(c), $"'{c}'"));
        Assert.True(GroupIds.LooksLikeId(id));
        Assert.False(GroupIds.LooksLikeId(id[..10]));
    }

    [Fact]
    public void OwnerAndKeyCannotBeReSpelledAsAnotherPair()
    {
        Assert.NotEqual(GroupIds.For("shop", "CVE-1"), GroupIds.For("payments", "CVE-1"));
        // Without length prefixes "a\nb" + "c" and "a" + "b\nc" would hash the same text.
        Assert.NotEqual(GroupIds.For("a\nb", "c"), GroupIds.For("a", "b\nc"));
        Assert.NotEqual(GroupIds.For("ab", "c"), GroupIds.For("a", "bc"));
        // Owner names are case-insensitive, as /vulns NAME is.
        Assert.Equal(GroupIds.For("Shop", "CVE-1"), GroupIds.For("shop", "CVE-1"));
    }

    [Fact]
    public void SlackButtonsCarryTheWholeIdAndParseBack()
    {
        var id = GroupIds.For("payments", "CVE-2026-0001");
        var patch = Guid.NewGuid().ToString("n");
        foreach (var action in Enum.GetValues<CardAction>())
        {
            var actionId = SlackCards.ActionId(action, id);
            Assert.True(actionId.Length <= 255);
            Assert.EndsWith(id, actionId, StringComparison.Ordinal);
            var parsed = SlackCards.ParseButton(actionId, $"{id}:{patch}");
            Assert.Equal((action, id, patch), parsed);
        }
    }

    [Fact]
    public async Task TwoOwnersWithTheSameCveGetTwoGroups()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis, new()
        {
            ["Routing:Rules:0:Tags:app"] = "payments",
            ["Routing:Rules:0:Target:Owner"] = "payments",
            ["Routing:Default:Owner"] = "shop",
        }));
        await app.PostEventsAsync(FindingEvents.Ec2("two-1", cve: "CVE-2026-7777", tags: new() { ["app"] = "payments" }).ToJsonString());
        await app.PostEventsAsync(FindingEvents.Ec2("two-2", cve: "CVE-2026-7777", instanceId: "i-0000000000000000b").ToJsonString());
        var store = app.Service<IAlertStore>();

        var payments = Assert.Single(await store.GroupIdsAsync("payments", default));
        var shop = Assert.Single(await store.GroupIdsAsync("shop", default));

        Assert.NotEqual(payments, shop);
        Assert.Equal(GroupIds.For("payments", "CVE-2026-7777"), payments);
        Assert.Equal(32, payments.Length);
        Assert.Equal("payments", (await store.GetGroupAsync(payments, default))!.Meta.Owner);
        Assert.Single((await store.GetGroupAsync(shop, default))!.Members);
    }
}
