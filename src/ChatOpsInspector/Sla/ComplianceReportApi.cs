using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Sla;

/// <summary>
/// <c>GET /api/reports/sla</c>: the SLA compliance report of one month as JSON or CSV. It is evidence for
/// auditors, so it takes the audit credential (<c>Audit:ApiKey</c>, see <see cref="AuditKeyFilter"/>).
/// </summary>
internal static class ComplianceReportApi
{
    public static IEndpointRouteBuilder MapSlaReports(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/reports/sla", ReportAsync).AddEndpointFilter<AuditKeyFilter>();
        return app;
    }

    internal static async Task<IResult> ReportAsync(
        AlertQueries queries,
        IAlertStore store,
        TimeProvider time,
        string? month,
        string? owner,
        string? format,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var period = ReportMonth.Of(now);
        if (month is not null && !ReportMonth.TryParse(month, out period))
        {
            errors["month"] = [$"'{Clip(month)}' is not a month: use yyyy-MM, e.g. 2026-11."];
        }
        var kind = (format ?? "json").ToLowerInvariant();
        if (kind is not ("json" or "csv"))
        {
            errors["format"] = ["Use format=json or format=csv."];
        }
        if (owner is { Length: 0 or > 200 })
        {
            errors["owner"] = ["Give an owner (application) name of at most 200 characters, or leave owner out for every owner."];
        }
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid SLA report query");
        }
        var report = ComplianceReport.For(await GroupsAsync(queries, store, owner, cancellationToken), period, now, owner);
        return kind == "csv"
            ? Results.Text(ToCsv(report), "text/csv; charset=utf-8")
            : Results.Json(ToJson(report), ComplianceJson.Default.ComplianceReportDocument);
    }

    /// <summary>The owner's groups (its name matched case-insensitively), or every owner's.</summary>
    internal static async Task<IReadOnlyList<AlertGroup>> GroupsAsync(AlertQueries queries, IAlertStore store, string? owner, CancellationToken cancellationToken)
    {
        if (owner is null)
        {
            return await queries.AllGroupsAsync(cancellationToken);
        }
        var known = (await store.OwnersAsync(cancellationToken)).Where(o => string.Equals(o, owner, StringComparison.OrdinalIgnoreCase)).ToArray();
        var groups = new List<AlertGroup>();
        foreach (var name in known)
        {
            groups.AddRange(await queries.GroupsAsync(name, cancellationToken));
        }
        return groups;
    }

    public const string CsvHeader =
        "month,owner,severity,groups,findings,met,missed,met_percent,open_past_due,pending,suppressed,"
        + "acknowledged,mean_hours_to_acknowledge,p90_hours_to_acknowledge,fixed,mean_hours_to_fix,p90_hours_to_fix";

    /// <summary>One line per owner and severity, then the total (severity ALL); cells neutralised as in the audit export.</summary>
    internal static string ToCsv(ComplianceReport report)
    {
        var csv = new StringBuilder(CsvHeader).Append("\r\n");
        foreach (var row in report.Rows.Append(report.Total))
        {
            var r = Row(row);
            string[] cells =
            [
                r.Month, r.Owner, r.Severity, Number(r.Groups), Number(r.Findings), Number(r.Met), Number(r.Missed), Number(r.MetPercent),
                Number(r.OpenPastDue), Number(r.Pending), Number(r.Suppressed), Number(r.Acknowledged), Number(r.MeanHoursToAcknowledge),
                Number(r.P90HoursToAcknowledge), Number(r.Fixed), Number(r.MeanHoursToFix), Number(r.P90HoursToFix),
            ];
            csv.AppendJoin(',', cells.Select(AuditExportApi.Cell)).Append("\r\n");
        }
        return csv.ToString();
    }

    internal static ComplianceReportDocument ToJson(ComplianceReport report) => new(
        report.Month.ToString(),
        report.GeneratedAt,
        "Alert groups (one per owner and vulnerability) whose SLA fell due in the month (UTC); p90 is the nearest-rank 90th percentile.",
        [.. report.Rows.Select(Row)],
        Row(report.Total));

    internal static ComplianceRowDocument Row(ComplianceRow row) => new(
        row.Month.ToString(),
        row.Owner,
        row.Severity is { } s ? AlertCardBuilder.SeverityLabel(s) : "ALL",
        row.Groups,
        row.Findings,
        row.Met,
        row.Missed,
        row.MetPercent,
        row.OpenPastDue,
        row.Pending,
        row.Suppressed,
        row.Acknowledged,
        Hours(row.MeanTimeToAcknowledge),
        Hours(row.P90TimeToAcknowledge),
        row.Fixed,
        Hours(row.MeanTimeToFix),
        Hours(row.P90TimeToFix));

    private static double? Hours(TimeSpan? span) => span is { } s ? Math.Round(s.TotalHours, 2) : null;

    private static string Number(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

internal sealed record ComplianceReportDocument(
    string Month,
    DateTimeOffset GeneratedAt,
    string Counts,
    IReadOnlyList<ComplianceRowDocument> Rows,
    ComplianceRowDocument Total);

/// <summary>A report row as exported: durations in hours, absent when there is nothing to measure.</summary>
internal sealed record ComplianceRowDocument(
    string Month,
    string Owner,
    string Severity,
    int Groups,
    int Findings,
    int Met,
    int Missed,
    double? MetPercent,
    int OpenPastDue,
    int Pending,
    int Suppressed,
    int Acknowledged,
    double? MeanHoursToAcknowledge,
    double? P90HoursToAcknowledge,
    int Fixed,
    double? MeanHoursToFix,
    double? P90HoursToFix);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ComplianceReportDocument))]
internal sealed partial class ComplianceJson : JsonSerializerContext;
