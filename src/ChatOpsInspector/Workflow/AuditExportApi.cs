using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// <c>GET /api/audit</c>: the audit stream as remediation evidence (CSV or JSON), each record labelled
/// with the controls it evidences so auditors can filter by framework. Protected by its own key,
/// <c>Audit:ApiKey</c> (see <see cref="AuditKeyFilter"/>).
/// </summary>
internal static class AuditExportApi
{
    public const int MaxRecords = 100_000;

    /// <summary>Vulnerability-remediation controls that every triage and remediation record evidences.</summary>
    public static readonly IReadOnlyList<string> RemediationControls =
        ["PCI-DSS 6.3.3", "NIST 800-53 SI-2", "ISO 27001:2022 A.8.8", "CIS Controls 7"];

    public static IEndpointRouteBuilder MapAuditExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", ExportAsync).AddEndpointFilter<AuditKeyFilter>();
        return app;
    }

    internal static async Task<IResult> ExportAsync(
        IAuditLog audit,
        TimeProvider time,
        string? owner,
        string? from,
        string? to,
        string? format,
        string? control,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var start = ParseTime(from, "from", DateTimeOffset.MinValue, errors);
        var end = ParseTime(to, "to", time.GetUtcNow().AddMinutes(1), errors);
        var kind = (format ?? "json").ToLowerInvariant();
        if (kind is not ("json" or "csv"))
        {
            errors["format"] = ["Use format=json or format=csv."];
        }
        if (start >= end && errors.Count == 0)
        {
            errors["from"] = ["'from' must be before 'to'."];
        }
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid audit query");
        }
        var records = (await audit.ReadAsync(start, end, MaxRecords, cancellationToken))
            .Where(r => owner is null || string.Equals(r.Owner, owner, StringComparison.OrdinalIgnoreCase))
            .Select(r => new EvidenceRecord(r, ControlsFor(r)))
            .Where(e => control is null || e.Controls.Any(c => c.Contains(control, StringComparison.OrdinalIgnoreCase)))
            .ToArray();
        if (kind == "csv")
        {
            return Results.Text(ToCsv(records), "text/csv; charset=utf-8");
        }
        return Results.Json(records, AuditJson.Default.EvidenceRecordArray);
    }

    /// <summary>Chat delivery failures are operational, not remediation evidence; everything else is.</summary>
    public static IReadOnlyList<string> ControlsFor(AuditRecord record) =>
        record.Action.StartsWith("chat_", StringComparison.Ordinal) ? [] : RemediationControls;

    private static DateTimeOffset ParseTime(string? text, string name, DateTimeOffset fallback, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        errors[name] = [$"'{text}' is not an ISO-8601 time (e.g. 2026-11-01T00:00:00Z)."];
        return fallback;
    }

    internal static string ToCsv(IEnumerable<EvidenceRecord> records)
    {
        var csv = new StringBuilder("at,action,outcome,actor_platform,actor_id,actor_name,channel,owner,group_id,vulnerability_id,detail,aws_request_id,controls\r\n");
        foreach (var e in records)
        {
            var r = e.Record;
            string[] cells =
            [
                r.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), r.Action, r.Outcome, r.ActorPlatform, r.ActorId, r.ActorName,
                r.Channel ?? "", r.Owner ?? "", r.GroupId ?? "", r.VulnerabilityId ?? "", r.Detail ?? "", r.AwsRequestId ?? "",
                string.Join("; ", e.Controls),
            ];
            csv.AppendJoin(',', cells.Select(Cell)).Append("\r\n");
        }
        return csv.ToString();
    }

    /// <summary>
    /// RFC 4180 quoting, and formula-like cells neutralised as OWASP's CSV injection guidance says:
    /// a leading apostrophe and the cell quoted. Spreadsheets skip leading spaces, invisible characters
    /// and full-width forms before deciding a cell is a formula, and some treat | and ; as separators
    /// of a DDE call, so those count as formula starts too.
    /// </summary>
    internal static string Cell(string value)
    {
        if (value.Length > 0 && StartsLikeFormula(value[0]))
        {
            return "\"'" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static bool StartsLikeFormula(char first) =>
        first is '=' or '+' or '-' or '@' or '|' or ';' or '\t' or '\r' or '\n'
            or '\uFF1D' or '\uFF0B' or '\uFF0D' or '\uFF20' // full-width = + - @
            or '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' // zero-width characters
        || char.IsWhiteSpace(first) || char.IsControl(first) || char.GetUnicodeCategory(first) == UnicodeCategory.Format;
}

internal sealed record EvidenceRecord(AuditRecord Record, IReadOnlyList<string> Controls);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EvidenceRecord[]))]
internal sealed partial class AuditJson : JsonSerializerContext;
