using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Operations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Ingest;

internal static class IngestApi
{
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section)
            .Validate(o => o.MaxBodyBytes is > 0 and <= 64 * 1024 * 1024, "Ingest:MaxBodyBytes must be between 1 byte and 64 MiB.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyFilter>();
        builder.Services.AddSingleton<FindingIngestor>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration["Ingest:Sqs:QueueUrl"]))
        {
            builder.Services.AddHostedService<SqsPoller>();
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/inspector").AddEndpointFilter<ApiKeyFilter>();
        group.MapPost("/events", ReceiveEventsAsync)
            .Accepts<object>("application/json")
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        if (app.ServiceProvider.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            app.MapSampleFindings();
        }
        return app;
    }

    internal static async Task<IResult> ReceiveEventsAsync(
        HttpContext context,
        FindingIngestor ingestor,
        IOptionsMonitor<IngestOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var limit = options.CurrentValue.MaxBodyBytes;
        var (body, tooLarge) = await RequestBody.ReadAsync(context, limit, cancellationToken);
        if (tooLarge)
        {
            AppMetrics.EventsRejected.WithLabels("too_large").Inc();
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Body too large",
                detail: $"The body is larger than Ingest:MaxBodyBytes ({limit} bytes). Send fewer events per request.");
        }
        if (body!.Length == 0)
        {
            AppMetrics.EventsRejected.WithLabels("invalid").Inc();
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid event", detail: "The body is empty.");
        }
        var (events, errors) = InspectorEventParser.Parse(body, time.GetUtcNow());
        if (errors.Count > 0)
        {
            AppMetrics.EventsRejected.WithLabels("invalid").Inc();
            var problem = new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid event",
                Detail = errors.Count == 1 ? errors[0] : $"{errors.Count} problems; see 'errors'. Nothing was stored.",
            };
            problem.Extensions["errors"] = errors.Take(50).ToArray();
            return Results.Problem(problem);
        }
        var summary = await ingestor.IngestAsync(events, cancellationToken);
        return Results.Json(new IngestResponse(summary.Accepted, summary.Duplicates, summary.Ignored), IngestJson.Default.IngestResponse, statusCode: StatusCodes.Status202Accepted);
    }
}

internal sealed record IngestResponse(int Accepted, int Duplicates, int Ignored);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(IngestResponse))]
internal sealed partial class IngestJson : System.Text.Json.Serialization.JsonSerializerContext;
