using System.Buffers.Binary;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Sla;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Sla;

/// <summary>The chart renders headless (no display, CPU raster) to a real PNG of the stated size.</summary>
public sealed class ComplianceChartTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ChartIsAPngOfTheStatedSize()
    {
        var report = ComplianceReport.For([Group(Severity.Critical, met: true), Group(Severity.Critical, met: false), Group(Severity.High, met: true)],
            new ReportMonth(2026, 11), Now);

        var png = ComplianceChart.Png(report, "payments");

        Assert.NotNull(png);
        Assert.Equal((ComplianceChart.Width, ComplianceChart.Height), PngImage.Size(png));
        // Bars and text were drawn: a blank canvas of this size compresses to well under 5 KB.
        Assert.True(png.Length > 5_000, $"{png.Length} bytes");
        Assert.Equal("SLA met % for payments in 2026-11: CRITICAL 50 % (1 of 2), HIGH 100 % (1 of 1)", ComplianceChart.AltText(report, "payments"));
    }

    [Fact]
    public void AMonthWithNothingMetOrMissedHasNoChart()
    {
        var report = ComplianceReport.For([], new ReportMonth(2026, 11), Now);

        Assert.Null(ComplianceChart.Png(report, "payments"));
    }

    private static int _next;

    private static AlertGroup Group(Severity severity, bool met)
    {
        var id = "g" + Interlocked.Increment(ref _next);
        var seen = new DateTimeOffset(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);
        var due = seen.AddDays(1);
        var resolved = met ? seen.AddHours(5) : due.AddHours(5);
        return new AlertGroup
        {
            Id = id,
            Meta = new GroupMeta
            {
                Owner = "payments", VulnerabilityId = "CVE-2026-" + id, Title = id, Type = FindingType.PackageVulnerability,
                Severity = severity, FirstSeenAt = seen, SlaDueAt = due,
            },
            Members = [],
            Workflow = new WorkflowState { State = GroupState.Resolved, ResolvedAt = resolved, TimeToFix = resolved - seen },
            Version = 1,
        };
    }
}

/// <summary>Reads a PNG's signature and IHDR chunk (PNG spec, ISO/IEC 15948 §5.2 and §11.2.2).</summary>
internal static class PngImage
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from IHDR; fails the test when the bytes are not a PNG.</summary>
    public static (int Width, int Height) Size(byte[] png)
    {
        Assert.True(png.Length > 24, "too short for a PNG");
        Assert.Equal(Signature, png[..8]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
    }
}
