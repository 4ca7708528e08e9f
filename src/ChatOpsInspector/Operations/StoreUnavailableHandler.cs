using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Operations;

/// <summary>
/// The state store being down is not the caller's fault and not permanent: answer 503 with
/// Retry-After so EventBridge, SQS and chat platforms deliver again, and nothing is lost.
/// </summary>
internal sealed partial class StoreUnavailableHandler(IProblemDetailsService problems, ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStoreFailure(exception))
        {
            return false;
        }
        AppMetrics.Errors.WithLabels("store").Inc();
        LogStoreDown(context.Request.Path, exception.GetType().Name, exception.Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "State store unavailable",
                Detail = "Nothing was stored. Retry after the delay in Retry-After.",
            },
        });
    }

    public static bool IsStoreFailure(Exception exception) => StoreFailures.IsStoreFailure(exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "State store unavailable while serving {Path}: {ErrorType} {Error}")]
    private partial void LogStoreDown(string path, string errorType, string error);
}
