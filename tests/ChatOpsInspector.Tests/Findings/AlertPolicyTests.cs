using ChatOpsInspector.Findings;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Findings;

public class AlertPolicyTests
{
    private static AlertPolicy Policy(double? minEpss = 0.5) =>
        new(Options.Create(new AlertingOptions { MinEpss = minEpss }), Options.Create(new SlaOptions()));

    private static Finding F(Severity severity, double? score = null, double? epss = null, bool exploit = false, FindingStatus status = FindingStatus.Active) => new()
    {
        FindingArn = "arn", AwsAccountId = "123456789012", Region = "eu-west-1", Type = FindingType.PackageVulnerability,
        Severity = severity, Status = status, Title = "t", VulnerabilityId = "CVE-1", InspectorScore = score, Epss = epss, ExploitAvailable = exploit,
        FirstObservedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), LastObservedAt = default, UpdatedAt = default,
        Resources = [new FindingResource { Type = ResourceTypes.Ec2Instance, Id = "i-1", Region = "eu-west-1" }],
    };

    [Theory]
    [InlineData("Critical", null, null, true)]
    [InlineData("High", 8.0, null, true)]
    [InlineData("High", 7.9, null, false)]
    [InlineData("Medium", 5.0, 0.5, true)]
    [InlineData("Medium", 5.0, 0.49, false)]
    [InlineData("Low", null, null, false)]
    public void AFindingAlertsAtAnyThreshold(string severity, double? score, double? epss, bool alerts) =>
        Assert.Equal(alerts, Policy().ShouldAlert(F(Enum.Parse<Severity>(severity), score, epss)));

    [Fact]
    public void ClosedFindingsNeverAlert() => Assert.False(Policy().ShouldAlert(F(Severity.Critical, status: FindingStatus.Closed)));

    [Fact]
    public void ExploitHighEpssAndProductionRaisePriority()
    {
        var policy = Policy();
        var plain = policy.Priority(F(Severity.High), production: false);
        Assert.True(policy.Priority(F(Severity.High, exploit: true), false) > plain);
        Assert.True(policy.Priority(F(Severity.High, epss: 0.9), false) > plain);
        Assert.True(policy.Priority(F(Severity.High), true) > plain);
        Assert.True(policy.Priority(F(Severity.Critical, epss: 0.9, exploit: true), true) <= 100);
    }

    [Theory]
    [InlineData("Critical", 24)]
    [InlineData("High", 72)]
    [InlineData("Medium", 720)]
    [InlineData("Low", 2160)]
    public void SlaIsDueTheConfiguredHoursAfterFirstSeen(string severity, int hours) =>
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(hours), Policy().SlaDue(F(Enum.Parse<Severity>(severity))));
}
