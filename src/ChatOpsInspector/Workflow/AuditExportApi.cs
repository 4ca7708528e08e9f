using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// <c>GET /api/audit</c>: the audit stream as remediation evidence (CSV or JSON), each record labelled
/// with the controls it evidences (<see cref="AuditControls"/>) and its hash-chain link, read from
/// <c>from</c> onwards a page at a time; <c>GET /api/audit/verify</c> re-hashes the chains. Protected by its own key,
/// <c>Audit:ApiKey</c> (see <see cref="AuditKeyFilter"/>).
/// </summary>
internal static class AuditExportApi
{
    public const int MaxRecords = 100_000;

    public static IEndpointRouteBuilder MapAuditExport(this IEndpointRouteBuilder app)
    {
        var audit = app.MapGroup("/api/audit").AddEndpointFilter<AuditKeyFilter>();
        audit.MapGet("", ExportAsync);
        audit.MapGet("/verify", VerifyAsync);
        return app;
    }

    internal static async Task<IResult> ExportAsync(
        HttpContext http,
        IAuditLog audit,
        TimeProvider time,
        string? owner,
        string? from,
        string? to,
        string? format,
        string? control,
        string? cursor,
        int? limit,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var start = ParseTime(from, "from", DateTimeOffset.UnixEpoch, errors);
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
        if (control is not null && !AuditControls.IsKnown(control))
        {
            errors["control"] = [$"'{control}' is not a control the audit maps; use one of {string.Join(", ", AuditControls.All.Select(c => c.Id))}."];
        }
        if (limit is < 1 or > MaxRecords)
        {
            errors["limit"] = [$"'limit' must be between 1 and {MaxRecords}."];
        }
        if (cursor is not null && !AuditCursor.IsValid(cursor))
        {
            errors["cursor"] = ["'cursor' is not a cursor this export gave out; start again without it."];
        }
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid audit query");
        }
        var page = await audit.ReadPageAsync(start, end, limit ?? MaxRecords, cursor, cancellationToken);
        var records = page.Records
            .Where(r => owner is null || string.Equals(r.Record.Owner, owner, StringComparison.OrdinalIgnoreCase))
            .Where(r => control is null || AuditControls.Matches(r.Record.Action, control))
            .Select(EvidenceRecord.Of)
            .ToArray();
        if (page.Next is { } next)
        {
            // Pages follow the stream, not the filters: a page may hold fewer records than the limit and still have a next one.
            var query = QueryString.Create(http.Request.Query.Where(q => q.Key != "cursor").SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v))))
                .Add("cursor", next);
            http.Response.Headers["X-Next-Cursor"] = next;
            http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}{query}>; rel=\"next\"";
        }
        if (kind == "csv")
        {
            return Results.Text(ToCsv(records), "text/csv; charset=utf-8");
        }
        return Results.Json(records, AuditJson.Default.EvidenceRecordArray);
    }

    /// <summary><c>GET /api/audit/verify</c>: 200 when every chain still held re-hashes, 409 naming the first broken link.</summary>
    internal static async Task<IResult> VerifyAsync(IAuditLog audit, CancellationToken cancellationToken)
    {
        var result = await audit.VerifyAsync(cancellationToken);
        return Results.Json(result, AuditJson.Default.AuditVerification, statusCode: result.Intact ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

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

    public static readonly string CsvHeader = string.Join(',',
        "at", "kind", "action", "outcome", "actor_platform", "actor_workspace", "actor_id", "actor_name", "channel", "message_id",
        "owner", "group_id", "vulnerability_id", "severity", "finding_count", "finding_arns", "resource_ids", "account_ids", "regions",
        "detected_at", "sla_due_at", "sla_met", "fixed_at", "reason", "until", "filter_arns", "patch_request_id",
        "requested_by_platform", "requested_by_workspace", "requested_by_id", "approved_by_platform", "approved_by_workspace", "approved_by_id",
        "documents", "command_ids", "instance_results", "detail", "aws_request_id", "controls", "id", "prev_hash", "hash");

    internal static string ToCsv(IEnumerable<EvidenceRecord> records)
    {
        var csv = new StringBuilder(CsvHeader).Append("\r\n");
        foreach (var e in records)
        {
            var r = e.Record;
            string[] cells =
            [
                Time(r.At), e.Kind ?? "", r.Action, r.Outcome, r.ActorPlatform, r.ActorWorkspace ?? "", r.ActorId, r.ActorName, r.Channel ?? "", r.MessageId ?? "",
                r.Owner ?? "", r.GroupId ?? "", r.VulnerabilityId ?? "", r.Severity ?? "", r.FindingCount?.ToString(CultureInfo.InvariantCulture) ?? "",
                List(r.FindingArns), List(r.ResourceIds), List(r.AccountIds), List(r.Regions),
                Time(r.DetectedAt), Time(r.SlaDueAt), r.SlaMet is { } met ? (met ? "true" : "false") : "", Time(r.FixedAt),
                r.Reason ?? "", Time(r.Until), List(r.FilterArns), r.PatchRequestId ?? "",
                r.RequestedBy?.Platform ?? "", r.RequestedBy?.Workspace ?? "", r.RequestedBy?.Id ?? "",
                r.ApprovedBy?.Platform ?? "", r.ApprovedBy?.Workspace ?? "", r.ApprovedBy?.Id ?? "",
                List(r.Documents), List(r.CommandIds), List(r.InstanceResults), r.Detail ?? "", r.AwsRequestId ?? "",
                List(e.Controls), e.Id ?? "", e.PrevHash ?? "", e.Hash ?? "",
            ];
            csv.AppendJoin(',', cells.Select(Cell)).Append("\r\n");
        }
        return csv.ToString();
    }

    private static string Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? "";

    private static string List(IReadOnlyList<string>? values) => values is null ? "" : string.Join("; ", values);

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

/// <summary>A record as exported: its type, the controls it evidences, and its link in the hash chain.</summary>
internal sealed record EvidenceRecord(AuditRecord Record, IReadOnlyList<string> Controls)
{
    public string? Kind { get; init; }
    public string? Id { get; init; }
    public string? PrevHash { get; init; }
    public string? Hash { get; init; }

    public static EvidenceRecord Of(ChainedAuditRecord c) => new(c.Record, AuditControls.LabelsFor(c.Record.Action))
    {
        Kind = AuditControls.TypeOf(c.Record.Action)?.Kind ?? "operational",
        Id = c.Id,
        PrevHash = c.PrevHash,
        Hash = c.Hash,
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EvidenceRecord[]))]
[JsonSerializable(typeof(AuditVerification))]
internal sealed partial class AuditJson : JsonSerializerContext;
