using ChatOpsInspector.State;
using Prometheus;

namespace ChatOpsInspector.Operations;

internal static partial class OperationsApi
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

    private static long _lastNotReadyLog;

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (IAlertStore store, IWorkQueue queue, TimeProvider time, ILoggerFactory loggers, CancellationToken ct) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            // The probe writes through a script, as ingest does, so a store that answers PING but
            // refuses ingest (cluster down, no scripting or write rights) is not ready either.
            var ready = await store.PingAsync(timeout.Token);
            if (!ready)
            {
                LogNotReady(loggers, time, store);
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "State store unavailable");
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

    /// <summary>Probes come every few seconds: one line a minute says why.</summary>
    private static void LogNotReady(ILoggerFactory loggers, TimeProvider time, IAlertStore store)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var last = Interlocked.Read(ref _lastNotReadyLog);
        if (now - last < 60_000 || Interlocked.CompareExchange(ref _lastNotReadyLog, now, last) != last)
        {
            return;
        }
        var why = (store as RedisStore)?.LastProbeFailure;
        LogNotReady(loggers.CreateLogger("ChatOpsInspector.Operations.Readiness"), why?.GetType().Name ?? "disconnected", why?.Message ?? "no connection to Redis");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not ready: the state store refused the probe: {ErrorType} {Error}")]
    private static partial void LogNotReady(ILogger logger, string errorType, string error);
}
