using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Ingest;

/// <summary>
/// <c>POST /dev/samples</c> (Development only, loopback callers only): ingests the public Inspector
/// sample findings embedded in the assembly (see Ingest/Samples/SOURCES.md), each time as new findings,
/// so a newcomer sees cards without AWS.
/// </summary>
internal static partial class SampleFindings
{
    private static readonly string[] Names =
    [
        "finding-ec2-package-vulnerability.json",
        "finding-ecr-package-vulnerability.json",
        "finding-lambda-package-vulnerability.json",
    ];

    public static IEndpointRouteBuilder MapSampleFindings(this IEndpointRouteBuilder app)
    {
        app.MapPost("/dev/samples", IngestAsync)
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .ExcludeFromDescription();
        return app;
    }

    internal static async Task<IResult> IngestAsync(
        HttpContext context,
        FindingIngestor ingestor,
        TimeProvider time,
        ILogger<FindingIngestor> logger,
        CancellationToken cancellationToken)
    {
        if (context.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Local callers only",
                detail: "POST /dev/samples answers callers on this machine only.");
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(Fresh(time.GetUtcNow()), SampleJson.Default.JsonArray);
        var (events, errors) = InspectorEventParser.Parse(body, time.GetUtcNow());
        if (errors.Count > 0)
        {
            // The samples are part of the build; if they no longer parse, the parser changed under them.
            return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Samples do not parse", detail: errors[0]);
        }
        var summary = await ingestor.IngestAsync(events, cancellationToken);
        LogIngested(logger, summary.Accepted, summary.Ignored);
        return Results.Json(new IngestResponse(summary.Accepted, summary.Duplicates, summary.Ignored), IngestJson.Default.IngestResponse,
            statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The samples as new, open findings observed at <paramref name="now"/>.</summary>
    internal static JsonArray Fresh(DateTimeOffset now)
    {
        var stamp = now.UtcDateTime.ToString("ddd MMM dd HH:mm:ss.fff 'UTC' yyyy", CultureInfo.InvariantCulture);
        var events = new JsonArray();
        foreach (var name in Names)
        {
            using var stream = typeof(SampleFindings).Assembly.GetManifestResourceStream("Samples/" + name)
                ?? throw new InvalidOperationException($"Embedded sample {name} is missing from the build.");
            var evt = JsonNode.Parse(stream)!.AsObject();
            evt["id"] = Guid.NewGuid().ToString();
            evt["time"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var detail = evt["detail"]!.AsObject();
            detail["findingArn"] = detail["findingArn"]!.GetValue<string>()
                .Replace("{{FINDING_ID}}", Guid.NewGuid().ToString("N"), StringComparison.Ordinal);
            detail["status"] = "ACTIVE";
            detail["firstObservedAt"] = stamp;
            detail["lastObservedAt"] = stamp;
            detail["updatedAt"] = stamp;
            events.Add(evt);
        }
        return events;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sample findings ingested: {Accepted} accepted, {Ignored} below the alerting thresholds")]
    private static partial void LogIngested(ILogger logger, int accepted, int ignored);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonArray))]
internal sealed partial class SampleJson : System.Text.Json.Serialization.JsonSerializerContext;
