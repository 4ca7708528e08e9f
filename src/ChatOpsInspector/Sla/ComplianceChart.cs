using System.Globalization;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ScottPlot;

namespace ChatOpsInspector.Sla;

/// <summary>
/// The report as a picture: one bar per severity with the SLA met %, labelled "met of decided". Drawn
/// with ScottPlot on SkiaSharp's CPU raster backend, so it needs no display or GPU (headless servers).
/// </summary>
internal static class ComplianceChart
{
    public const int Width = 800;
    public const int Height = 400;

    /// <summary>A PNG of <see cref="Width"/>×<see cref="Height"/>, or null when no SLA was met or missed in the month.</summary>
    public static byte[]? Png(ComplianceReport report, string scope)
    {
        var rows = report.BySeverity().Where(r => r.MetPercent is not null).ToArray();
        if (rows.Length == 0)
        {
            return null;
        }
        var plot = new Plot();
        var bars = rows.Select((row, i) => new Bar
        {
            Position = i,
            Value = row.MetPercent!.Value,
            FillColor = ColorOf(row.Severity),
            Label = string.Create(CultureInfo.InvariantCulture, $"{row.MetPercent:0.#} % ({row.Met} of {row.Met + row.Missed})"),
        }).ToArray();
        var plotted = plot.Add.Bars(bars);
        plotted.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.SetTicks(
            [.. rows.Select((_, i) => (double)i)],
            [.. rows.Select(r => r.Severity is { } s ? AlertCardBuilder.SeverityLabel(s) : "ALL")]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.SetLimits(-0.6, rows.Length - 0.4, 0, 112);
        plot.Axes.Left.Label.Text = "SLA met %";
        plot.Title($"SLA compliance, {scope}, {report.Month} (UTC)");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Alt text for screen readers: the same figures as the bars.</summary>
    public static string AltText(ComplianceReport report, string scope) =>
        $"SLA met % for {scope} in {report.Month}: "
        + string.Join(", ", report.BySeverity().Where(r => r.MetPercent is not null).Select(r =>
            string.Create(CultureInfo.InvariantCulture, $"{(r.Severity is { } s ? AlertCardBuilder.SeverityLabel(s) : "ALL")} {r.MetPercent:0.#} % ({r.Met} of {r.Met + r.Missed})")));

    private static Color ColorOf(Severity? severity) => severity switch
    {
        Severity.Critical => new Color(0x9b, 0x1c, 0x1c),
        Severity.High => new Color(0xd9, 0x6c, 0x06),
        Severity.Medium => new Color(0xc9, 0xa2, 0x27),
        Severity.Low => new Color(0x2f, 0x6d, 0xb5),
        _ => new Color(0x6b, 0x72, 0x80),
    };
}
