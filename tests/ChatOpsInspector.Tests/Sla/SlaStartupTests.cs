using ChatOpsInspector.Sla;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Sla;

public sealed class SlaStartupTests
{
    /// <summary>The scheduler is not only registered: on its own, with no test driving it, it marks an overdue alert breached.</summary>
    [Fact]
    public async Task SlaSchedulerRunsInTheBackgroundAndMarksAnOverdueAlertBreached()
    {
        await using var app = new TestApp(new() { ["Sla:Scheduler:PollInterval"] = "00:00:00.100" });
        // Inspector first observed this critical finding in 2024: its 24-hour SLA is long past.
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("overdue-1").ToJsonString())).StatusCode);
        var groupId = Assert.Single(await app.Service<ChatOpsInspector.Alerts.AlertQueries>().GroupsAsync("unrouted", default)).Id;

        await TestApp.Eventually(async () =>
            (await app.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(groupId, default))!.Workflow.SlaBreached,
            "the background scheduler marked the group breached");
        var audit = await app.Service<ChatOpsInspector.State.IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100, default);
        Assert.Contains(audit, a => a.GroupId == groupId && a.Action == "sla_breached");
    }

    [Theory]
    [InlineData("Sla:QuietHours:payments:TimeZone", "Mars/Olympus_Mons", "Sla:QuietHours TimeZone")]
    [InlineData("Sla:DigestTimeUtc", "1.02:00:00", "Sla:DigestTimeUtc")]
    [InlineData("Sla:Scheduler:Lease", "00:00:00", "Sla:Scheduler")]
    public void BadSlaSettingFailsAtStartup(string key, string value, string named)
    {
        using var app = new TestApp(new() { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => app.Client());

        var validation = Assert.IsType<Microsoft.Extensions.Options.OptionsValidationException>(error.GetBaseException());
        Assert.Contains(validation.Failures, f => f.StartsWith(named, StringComparison.Ordinal));
    }
}
