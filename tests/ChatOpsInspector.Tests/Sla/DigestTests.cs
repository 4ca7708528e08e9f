using ChatOpsInspector.Findings;
using ChatOpsInspector.Sla;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Sla;

public sealed class DigestTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task DailyDigestIsOneMessagePerOwnerAndChannelWithBreachedAndBelowThresholdGroups()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        rig.StartNode();
        var breached = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-1001", Severity.Critical, Start.AddHours(-30), slaHours: 24);
        var high = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-1002", Severity.High, Start.AddHours(-1), slaHours: 72, alerting: false);
        var medium = await rig.SeedAsync(SlaRig.Payments, "CVE-2026-1003", Severity.Medium, Start.AddHours(-1), slaHours: 720, alerting: false);
        await rig.SeedAsync(SlaRig.Payments, "CVE-2026-1004", Severity.Low, Start.AddHours(-1), slaHours: 2160, alerting: false);
        await rig.SeedAsync(SlaRig.Payments, "CVE-2026-1005", Severity.Critical, Start.AddHours(-1), slaHours: 24);
        await rig.SeedAsync(SlaRig.Payments, "CVE-2026-1006", Severity.High, Start.AddHours(-2), slaHours: 72, alerting: false);
        await rig.ResolveAsync(SlaRig.Payments, "CVE-2026-1006", Severity.High, Start.AddHours(-2), slaHours: 72);
        var securityMedium = await rig.SeedAsync(SlaRig.Security, "CVE-2026-1007", Severity.Medium, Start.AddHours(-1), slaHours: 720, alerting: false);

        await rig.RunUntilAsync(Start.AddHours(2.5), TimeSpan.FromMinutes(30));
        Assert.Empty(Digests(rig));

        await rig.RunUntilAsync(Start.AddHours(3.5), TimeSpan.FromMinutes(30));

        var digests = Digests(rig);
        Assert.Equal(
            new[] { ("slack", SlaRig.PaymentsSlack), ("slack", SlaRig.SecuritySlack), ("teams", SlaRig.PaymentsTeams) },
            digests.Select(d => (d.Message.Platform!, d.Message.Channel!)).Order().ToArray());
        Assert.All(digests, d => Assert.Equal(Start.AddHours(3), d.At));
        var payments = digests.First(d => d.Message.Channel == SlaRig.PaymentsSlack).Message.Text;
        Assert.Equal(payments, digests.First(d => d.Message.Channel == SlaRig.PaymentsTeams).Message.Text);
        Assert.StartsWith("Daily vulnerability digest for payments, 2026-03-02", payments);
        var breachedSection = payments.IndexOf("SLA breached (1):", StringComparison.Ordinal);
        var belowSection = payments.IndexOf("Open below the alert threshold, HIGH/MEDIUM (2):", StringComparison.Ordinal);
        Assert.True(breachedSection > 0 && belowSection > breachedSection, payments);
        Assert.InRange(payments.IndexOf(breached, StringComparison.Ordinal), breachedSection, belowSection);
        Assert.True(payments.IndexOf(high, StringComparison.Ordinal) > belowSection);
        Assert.True(payments.IndexOf(medium, StringComparison.Ordinal) > payments.IndexOf(high, StringComparison.Ordinal));
        foreach (var absent in new[] { "CVE-2026-1004", "CVE-2026-1005", "CVE-2026-1006", "CVE-2026-1007" })
        {
            Assert.DoesNotContain(absent, payments);
        }
        var security = digests.Single(d => d.Message.Channel == SlaRig.SecuritySlack).Message.Text;
        Assert.Contains(securityMedium, security);
        Assert.DoesNotContain("SLA breached", security);

        // The next day brings exactly one more per owner and channel.
        await rig.RunUntilAsync(Start.AddDays(1).AddHours(4), TimeSpan.FromMinutes(30));
        var second = Digests(rig).Skip(digests.Count).ToArray();
        Assert.Equal(3, second.Length);
        Assert.All(second, d => Assert.Equal(Start.AddDays(1).AddHours(3), d.At));
        Assert.All(second, d => Assert.Contains("2026-03-03", d.Message.Text));
    }

    [Fact]
    public async Task DigestMissedWhileEveryInstanceWasDownIsSentWhenOneComesBack()
    {
        await using var rig = new SlaRig(redis, Start);
        var a = rig.StartNode();
        await rig.SeedAsync(SlaRig.Security, "CVE-2026-1101", Severity.High, Start, slaHours: 72, alerting: false);
        await rig.RunUntilAsync(Start.AddHours(1), TimeSpan.FromMinutes(30));
        await a.DisposeAsync();

        rig.Time.SetUtcNow(Start.AddHours(5));
        rig.StartNode();
        await rig.RunUntilAsync(Start.AddHours(6), TimeSpan.FromMinutes(30));

        var digest = Assert.Single(Digests(rig));
        Assert.Contains("CVE-2026-1101", digest.Message.Text);
        Assert.Equal(Start.AddHours(5), digest.At);
    }

    /// <summary>
    /// A HIGH finding that already has a card (it alerted on its score) is not "below the threshold":
    /// listing it there would tell the team it never got a card.
    /// </summary>
    [Fact]
    public async Task HighGroupThatAlertedIsNotListedAsBelowTheAlertThreshold()
    {
        await using var rig = new SlaRig(redis, Start);
        rig.StartNode();
        var below = await rig.SeedAsync(SlaRig.Security, "CVE-2026-1201", Severity.High, Start.AddHours(-1), slaHours: 72, alerting: false);
        var alerted = await rig.SeedAsync(SlaRig.Security, "CVE-2026-1202", Severity.High, Start.AddHours(-1), slaHours: 72, alerting: true);

        await rig.RunUntilAsync(Start.AddHours(3.5), TimeSpan.FromMinutes(30));

        var digest = Assert.Single(Digests(rig)).Message.Text;
        Assert.Contains("Open below the alert threshold, HIGH/MEDIUM (1):", digest, StringComparison.Ordinal);
        Assert.Contains(below, digest, StringComparison.Ordinal);
        Assert.DoesNotContain(alerted, digest, StringComparison.Ordinal);
    }

    [Fact]
    public void OwnerWithNothingBreachedOrBelowTheThresholdGetsNoDigest()
    {
        Assert.Null(DigestService.Build("payments", new DateOnly(2026, 3, 2), [], Start));
    }

    [Fact]
    public void DigestItemIdsRoundTripEvenForOwnersWithColons()
    {
        var id = DigestService.ItemId("team:payments", new DateOnly(2026, 3, 2));

        Assert.True(DigestService.TryParse(id, out var owner, out var day));
        Assert.Equal("team:payments", owner);
        Assert.Equal(new DateOnly(2026, 3, 2), day);
        Assert.False(DigestService.TryParse("sla:abc:50", out _, out _));
    }

    private static List<Sent> Digests(SlaRig rig) => rig.Sent.Where(s => s.Message.Platform is not null).ToList();
}
