using ChatOpsInspector.Sla;

namespace ChatOpsInspector.Tests.Sla;

public sealed class QuietHoursTests
{
    private static readonly QuietHours Night = new(TimeSpan.FromHours(22), TimeSpan.FromHours(7), TimeZoneInfo.Utc);

    [Theory]
    [InlineData("2026-03-02T21:59:00Z", null)]
    [InlineData("2026-03-02T22:00:00Z", "2026-03-03T07:00:00Z")]
    [InlineData("2026-03-03T03:00:00Z", "2026-03-03T07:00:00Z")]
    [InlineData("2026-03-03T07:00:00Z", null)]
    public void NightWindowSpansMidnight(string now, string? endsAt)
    {
        Assert.Equal(endsAt is null ? null : DateTimeOffset.Parse(endsAt, System.Globalization.CultureInfo.InvariantCulture),
            Night.EndsAfter(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void DaytimeWindowEndsTheSameDay()
    {
        var lunch = new QuietHours(TimeSpan.FromHours(12), TimeSpan.FromHours(13), TimeZoneInfo.Utc);

        Assert.Equal(new DateTimeOffset(2026, 3, 2, 13, 0, 0, TimeSpan.Zero), lunch.EndsAfter(new DateTimeOffset(2026, 3, 2, 12, 30, 0, TimeSpan.Zero)));
        Assert.Null(lunch.EndsAfter(new DateTimeOffset(2026, 3, 2, 23, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void WindowFollowsTheOwnersTimeZoneAcrossDaylightSaving()
    {
        var berlin = new QuietHours(TimeSpan.FromHours(22), TimeSpan.FromHours(7), QuietHours.Zone("Europe/Berlin"));

        // Winter: 07:00 CET is 06:00 UTC. Summer: 07:00 CEST is 05:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 1, 16, 6, 0, 0, TimeSpan.Zero), berlin.EndsAfter(new DateTimeOffset(2026, 1, 15, 23, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 7, 16, 5, 0, 0, TimeSpan.Zero), berlin.EndsAfter(new DateTimeOffset(2026, 7, 15, 23, 0, 0, TimeSpan.Zero)));
    }
}
