using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// Sends like EventBridge does: an event answered 503 or not answered at all is sent again after a
/// delay until it is accepted. Records what each event saw on the way.
/// </summary>
internal sealed class RetryingSender(HttpClient http, Func<string> baseUrl, TimeSpan giveUpAfter)
{
    public ConcurrentDictionary<int, EventTrace> Traces { get; } = new();

    /// <summary>Retry-After is honoured but capped, so that a 5 s outage does not make the bench wait 5 s per event.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public async Task<int> SendAsync(int index, byte[] body)
    {
        var trace = new EventTrace();
        Traces[index] = trace;
        var deadline = DateTime.UtcNow + giveUpAfter;
        while (true)
        {
            trace.Attempts++;
            int status;
            TimeSpan? retryAfter = null;
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl() + "api/inspector/events") { Content = content };
                request.Headers.Add("X-Api-Key", Rig.ApiKey);
                using var response = await http.SendAsync(request);
                status = (int)response.StatusCode;
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            catch (TaskCanceledException)
            {
                status = 0;
            }
            trace.Statuses.Add(status);
            if (status is not (503 or 0) || DateTime.UtcNow > deadline)
            {
                trace.Final = status;
                return status;
            }
            var delay = retryAfter is { } ra && ra < MaxRetryDelay ? ra : status == 503 ? MaxRetryDelay : TimeSpan.FromMilliseconds(200);
            await Task.Delay(delay);
        }
    }
}

internal sealed class EventTrace
{
    public int Attempts { get; set; }
    public int Final { get; set; }
    public List<int> Statuses { get; } = [];
}
