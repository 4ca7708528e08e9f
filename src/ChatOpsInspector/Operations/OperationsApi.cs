using ChatOpsInspector.State;
using Prometheus;

namespace ChatOpsInspector.Operations;

internal static class OperationsApi
{
    public static IHostApplicationBuilder AddOperations(this IHostApplicationBuilder builder)
    {
        builder.AddLogRedaction();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<StoreUnavailableHandler>();
        return builder;
    }

    public static WebApplication UseOperations(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (IAlertStore store, IWorkQueue queue, CancellationToken ct) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var ready = await store.PingAsync(timeout.Token);
            if (!ready)
            {
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "State store unreachable");
            }
            foreach (var name in new[] { Queues.Groups, Queues.Outbox, Queues.Remediation, Sla.SlaScheduler.Queue })
            {
                AppMetrics.QueueDepth.WithLabels(name).Set(await queue.CountAsync(name, ct));
            }
            return Results.Text("ready");
        });
        app.MapMetrics("/metrics");
        return app;
    }
}
