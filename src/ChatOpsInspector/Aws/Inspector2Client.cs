using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

/// <summary>Amazon Inspector2: list findings and coverage, manage suppression rules.</summary>
internal interface IInspector2Client
{
    /// <summary>One page of findings (<c>POST /findings/list</c>).</summary>
    Task<Inspector2Page<Inspector2Finding>> ListFindingsAsync(ListFindingsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Creates a filter (<c>POST /filters/create</c>); with action SUPPRESS that is a suppression rule.</summary>
    /// <remarks>Filters are regional: <paramref name="region"/> (the findings' region) or the bot's home region.</remarks>
    Task<FilterOperationResult> CreateFilterAsync(CreateFilterRequest request, string? region = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a filter (<c>POST /filters/delete</c>), e.g. to lift a suppression.</summary>
    /// <remarks>Sent to the region named in the filter's ARN.</remarks>
    Task<FilterOperationResult> DeleteFilterAsync(string filterArn, CancellationToken cancellationToken = default);

    /// <summary>One page of filters (<c>POST /filters/list</c>).</summary>
    Task<Inspector2Page<Inspector2Filter>> ListFiltersAsync(ListFiltersRequest request, string? region = null, CancellationToken cancellationToken = default);

    /// <summary>One page of scan coverage (<c>POST /coverage/list</c>).</summary>
    Task<Inspector2Page<CoveredResource>> ListCoverageAsync(ListCoverageRequest request, CancellationToken cancellationToken = default);
}

/// <summary>
/// Inspector2 over its REST/JSON wire protocol, signed with SigV4. Throttling (429) and server errors
/// are retried with capped exponential backoff and jitter, honouring <c>Retry-After</c>; everything
/// else surfaces at once as <see cref="AwsServiceException"/>.
/// </summary>
internal sealed class Inspector2Client(
    HttpClient http,
    IOptions<AwsOptions> options,
    AwsCredentialsProvider credentials,
    TimeProvider time,
    ILogger<Inspector2Client> logger) : IInspector2Client
{
    public const string ServiceName = "inspector2";

    internal const int MaxAttempts = 4;
    internal static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(250);
    internal static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(20);

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    public async Task<Inspector2Page<Inspector2Finding>> ListFindingsAsync(ListFindingsRequest request, CancellationToken cancellationToken = default)
    {
        CheckMaxResults(request.MaxResults, 100);
        var (body, requestId) = await SendAsync("ListFindings", "findings/list", request,
            Inspector2JsonContext.Default.ListFindingsRequest, Inspector2JsonContext.Default.ListFindingsResponse,
            idempotent: true, null, cancellationToken);
        return new(body.Findings ?? [], body.NextToken, requestId);
    }

    public async Task<FilterOperationResult> CreateFilterAsync(CreateFilterRequest request, string? region = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Name);
        if (request.Name.Length > 128)
        {
            throw new ArgumentException("Inspector2 filter names are at most 128 characters.", nameof(request));
        }

        // A SUPPRESS filter with no criteria matches every finding in the account: never send one.
        if (request.FilterCriteria is null || request.FilterCriteria.IsEmpty)
        {
            throw new ArgumentException("A filter needs at least one criterion; an empty one would match every finding.", nameof(request));
        }

        if (request.FilterCriteria.ExceedsListLimits)
        {
            throw new ArgumentException($"Inspector2 takes 1 to {FindingFilterCriteria.MaxListEntries} entries per criteria list; split the filter.", nameof(request));
        }

        var (body, requestId) = await SendAsync("CreateFilter", "filters/create", request,
            Inspector2JsonContext.Default.CreateFilterRequest, Inspector2JsonContext.Default.ArnResponse,
            idempotent: false, region, cancellationToken);
        return new(RequireArn(body, "CreateFilter", requestId), requestId);
    }

    public async Task<FilterOperationResult> DeleteFilterAsync(string filterArn, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filterArn);
        var (body, requestId) = await SendAsync("DeleteFilter", "filters/delete", new DeleteFilterRequest(filterArn),
            Inspector2JsonContext.Default.DeleteFilterRequest, Inspector2JsonContext.Default.ArnResponse,
            idempotent: true, RegionOfArn(filterArn), cancellationToken);
        return new(body.Arn ?? filterArn, requestId);
    }

    public async Task<Inspector2Page<Inspector2Filter>> ListFiltersAsync(ListFiltersRequest request, string? region = null, CancellationToken cancellationToken = default)
    {
        CheckMaxResults(request.MaxResults, 100);
        var (body, requestId) = await SendAsync("ListFilters", "filters/list", request,
            Inspector2JsonContext.Default.ListFiltersRequest, Inspector2JsonContext.Default.ListFiltersResponse,
            idempotent: true, region, cancellationToken);
        return new(body.Filters ?? [], body.NextToken, requestId);
    }

    public async Task<Inspector2Page<CoveredResource>> ListCoverageAsync(ListCoverageRequest request, CancellationToken cancellationToken = default)
    {
        CheckMaxResults(request.MaxResults, 200);
        var (body, requestId) = await SendAsync("ListCoverage", "coverage/list", request,
            Inspector2JsonContext.Default.ListCoverageRequest, Inspector2JsonContext.Default.ListCoverageResponse,
            idempotent: true, null, cancellationToken);
        return new(body.CoveredResources ?? [], body.NextToken, requestId);
    }

    /// <summary>arn:aws:inspector2:REGION:ACCOUNT:owner/…/filter/… → REGION; null when the ARN names none.</summary>
    internal static string? RegionOfArn(string arn)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && AwsOptionsValidator.IsRegion(parts[3]) ? parts[3] : null;
    }

    /// <param name="idempotent">
    /// False for calls that create something without a client token: those are retried only when AWS
    /// said it throttled (the request was not acted on), so a lost response cannot leave two filters.
    /// </param>
    private async Task<(TResponse Body, string? RequestId)> SendAsync<TRequest, TResponse>(
        string operation,
        string relativePath,
        TRequest request,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType,
        bool idempotent,
        string? region,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var signingRegion = region ?? settings.ResolveRegion();
        var uri = new Uri(settings.Inspector2EndpointFor(signingRegion), relativePath);
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, requestType);

        for (var attempt = 1; ; attempt++)
        {
            var signingCredentials = await credentials.GetSigningCredentialsAsync(cancellationToken);
            using var message = new HttpRequestMessage(HttpMethod.Post, uri)
            {
                Content = new ByteArrayContent(payload) { Headers = { ContentType = JsonContentType } },
            };
            message.Headers.Accept.ParseAdd("application/json");
            SigV4Signer.SignRequest(message, payload, signingCredentials, signingRegion, ServiceName, time.GetUtcNow());

            AwsServiceException failure;
            try
            {
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
                var requestId = RequestIdOf(response);
                var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    logger.AwsCallSucceeded(ServiceName, operation, requestId);
                    return (Deserialize(content, responseType, operation, response.StatusCode, requestId), requestId);
                }

                failure = ErrorFrom(operation, response, content, requestId, time.GetUtcNow());
            }
            catch (HttpRequestException ex)
            {
                failure = new AwsServiceException(ServiceName, operation, "RequestFailed", ex.Message, null, null,
                    AwsErrorKind.Unavailable, innerException: ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = new AwsServiceException(ServiceName, operation, "RequestTimeout", "No response in time.", null, null,
                    AwsErrorKind.Unavailable, innerException: ex);
            }

            var delay = attempt < MaxAttempts ? RetryDelay(failure, attempt, idempotent) : null;
            if (delay is null)
            {
                logger.AwsCallFailed(ServiceName, operation, failure.ErrorCode, (int?)failure.StatusCode, failure.RequestId, attempt);
                throw failure;
            }

            logger.AwsCallRetrying(ServiceName, operation, attempt, failure.ErrorCode, failure.RequestId, (long)delay.Value.TotalMilliseconds);
            await Task.Delay(delay.Value, time, cancellationToken);
        }
    }

    /// <summary>How long to wait before the next attempt, or null when the failure is not worth retrying.</summary>
    internal static TimeSpan? RetryDelay(AwsServiceException failure, int attempt, bool idempotent)
    {
        var retryable = idempotent ? failure.IsRetryable : failure.Kind == AwsErrorKind.Throttling;
        if (!retryable)
        {
            return null;
        }

        if (failure.RetryAfter is { } asked)
        {
            // Waiting longer than our own cap would hold a chat interaction hostage; give up instead.
            return asked <= MaxDelay ? (asked < TimeSpan.Zero ? TimeSpan.Zero : asked) : null;
        }

        // Exponential backoff with "equal jitter": at least half the step, so retries never bunch at zero.
        var step = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(step / 2 + Random.Shared.NextDouble() * step / 2);
    }

    private static AwsServiceException ErrorFrom(string operation, HttpResponseMessage response, byte[] content, string? requestId, DateTimeOffset now)
    {
        string? code = null;
        string? message = null;
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var types))
        {
            code = types.FirstOrDefault();
        }

        try
        {
            if (content.Length > 0)
            {
                using var document = JsonDocument.Parse(content);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    code ??= StringProperty(document.RootElement, "__type") ?? StringProperty(document.RootElement, "code") ?? StringProperty(document.RootElement, "Code");
                    message = StringProperty(document.RootElement, "message") ?? StringProperty(document.RootElement, "Message");
                }
            }
        }
        catch (JsonException)
        {
            // Proxies and load balancers answer with HTML; the status code still tells the story.
        }

        var errorCode = NormalizeErrorCode(code) ?? (int)response.StatusCode switch
        {
            429 => "ThrottlingException",
            403 => "AccessDeniedException",
            404 => "ResourceNotFoundException",
            >= 500 => "InternalServerException",
            _ => "UnknownError",
        };
        return new AwsServiceException(ServiceName, operation, errorCode, message, response.StatusCode, requestId,
            retryAfter: RetryAfterOf(response, now));
    }

    /// <summary>
    /// AWS error types arrive decorated: <c>ValidationException:http://internal.amazon.com/...</c> in the
    /// header, <c>com.amazonaws.inspector2#ValidationException</c> in the body. Keep the bare name.
    /// </summary>
    internal static string? NormalizeErrorCode(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var code = raw.Trim();
        var colon = code.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            code = code[..colon];
        }

        var hash = code.LastIndexOf('#');
        if (hash >= 0)
        {
            code = code[(hash + 1)..];
        }

        return code.Length == 0 ? null : code;
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - (response.Headers.Date ?? now) : null;
    }

    private static string? RequestIdOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-amzn-RequestId", out var ids) || response.Headers.TryGetValues("x-amz-request-id", out ids)
            ? ids.FirstOrDefault()
            : null;

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static TResponse Deserialize<TResponse>(byte[] content, JsonTypeInfo<TResponse> type, string operation, HttpStatusCode status, string? requestId)
    {
        try
        {
            return (content.Length == 0 ? default : JsonSerializer.Deserialize(content, type))
                ?? throw new JsonException("The response body is empty.");
        }
        catch (JsonException ex)
        {
            throw new AwsServiceException(ServiceName, operation, "InvalidResponse", "The response body is not the expected JSON.",
                status, requestId, AwsErrorKind.Unavailable, innerException: ex);
        }
    }

    private static string RequireArn(ArnResponse body, string operation, string? requestId) =>
        string.IsNullOrEmpty(body.Arn)
            ? throw new AwsServiceException(ServiceName, operation, "InvalidResponse", "The response carries no arn.",
                HttpStatusCode.OK, requestId, AwsErrorKind.Unavailable)
            : body.Arn;

    private static void CheckMaxResults(int? maxResults, int limit)
    {
        if (maxResults is { } value && (value < 1 || value > limit))
        {
            throw new ArgumentOutOfRangeException(nameof(maxResults), value, $"maxResults must be between 1 and {limit}.");
        }
    }
}

/// <summary>Follow <c>nextToken</c> to the end of a listing, one page (and one request id) at a time.</summary>
internal static class Inspector2Paging
{
    public static IAsyncEnumerable<Inspector2Page<Inspector2Finding>> ListAllFindingsAsync(
        this IInspector2Client client, ListFindingsRequest request, CancellationToken cancellationToken = default) =>
        PagesAsync(request, client.ListFindingsAsync, (r, token) => r with { NextToken = token }, r => r.NextToken, cancellationToken);

    public static IAsyncEnumerable<Inspector2Page<Inspector2Filter>> ListAllFiltersAsync(
        this IInspector2Client client, ListFiltersRequest request, string? region = null, CancellationToken cancellationToken = default) =>
        PagesAsync(request, (r, ct) => client.ListFiltersAsync(r, region, ct), (r, token) => r with { NextToken = token }, r => r.NextToken, cancellationToken);

    public static IAsyncEnumerable<Inspector2Page<CoveredResource>> ListAllCoverageAsync(
        this IInspector2Client client, ListCoverageRequest request, CancellationToken cancellationToken = default) =>
        PagesAsync(request, client.ListCoverageAsync, (r, token) => r with { NextToken = token }, r => r.NextToken, cancellationToken);

    private static async IAsyncEnumerable<Inspector2Page<T>> PagesAsync<TRequest, T>(
        TRequest first,
        Func<TRequest, CancellationToken, Task<Inspector2Page<T>>> fetch,
        Func<TRequest, string, TRequest> withToken,
        Func<TRequest, string?> tokenOf,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = first;
        while (true)
        {
            var page = await fetch(request, cancellationToken);
            yield return page;
            if (!page.HasMore)
            {
                yield break;
            }

            if (page.NextToken == tokenOf(request))
            {
                throw new InvalidOperationException("Inspector2 returned the token it was given; stopping instead of looping forever.");
            }

            request = withToken(request, page.NextToken!);
        }
    }
}
