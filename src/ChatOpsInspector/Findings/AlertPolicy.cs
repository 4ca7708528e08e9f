using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Findings;

/// <summary>Decides whether a finding alerts, how urgent it is, and when its SLA is due.</summary>
internal sealed class AlertPolicy(IOptions<AlertingOptions> alerting, IOptions<SlaOptions> sla)
{
    public AlertingOptions Options => alerting.Value;

    public bool ShouldAlert(Finding finding)
    {
        var o = alerting.Value;
        if (finding.Status == FindingStatus.Closed)
        {
            return false;
        }
        return finding.Severity >= o.MinSeverity
            || (o.MinInspectorScore is { } minScore && finding.InspectorScore >= minScore)
            || (o.MinEpss is { } minEpss && finding.Epss >= minEpss);
    }

    /// <summary>0–100: severity sets the base; exploit available, high EPSS and production raise it.</summary>
    public int Priority(Finding finding, bool production)
    {
        var score = finding.Severity switch
        {
            Severity.Critical => 70,
            Severity.High => 50,
            Severity.Medium => 30,
            Severity.Low => 15,
            _ => 5,
        };
        if (finding.ExploitAvailable)
        {
            score += 15;
        }
        if (finding.Epss is { } epss)
        {
            score += epss >= 0.5 ? 10 : epss >= 0.1 ? 5 : 0;
        }
        if (production)
        {
            score += 10;
        }
        return Math.Clamp(score, 0, 100);
    }

    /// <summary>Saturates rather than overflows: ingest bounds the times, other sources might not.</summary>
    public DateTimeOffset SlaDue(Finding finding)
    {
        var window = sla.Value.For(finding.Severity);
        return finding.FirstObservedAt > DateTimeOffset.MaxValue - window ? DateTimeOffset.MaxValue : finding.FirstObservedAt + window;
    }
}
