namespace ChatOpsInspector.State;

/// <summary>
/// The loop of a background worker over a durable queue: run a pass, wait <c>idle</c> when it found
/// nothing due, and survive a failed pass (the items it claimed come back after their lease).
/// </summary>
internal static class QueuePolling
{
    public static async Task RunAsync(
        Func<CancellationToken, Task<int>> pass, TimeSpan idle, TimeProvider time, Action<Exception> failed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            int done;
            try
            {
                done = await pass(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failed(ex);
                done = 0;
            }
            if (done == 0)
            {
                await Task.Delay(idle, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
