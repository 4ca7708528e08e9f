using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace ChatOpsInspector.Ingest;

/// <summary>Reads a request body up to a limit, so oversized bodies become 413 without being buffered whole.</summary>
internal static class RequestBody
{
    public static async Task<(byte[]? Body, bool TooLarge)> ReadAsync(HttpContext context, long maxBytes, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return (null, true);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + 1;
        }
        // At least one byte: ArrayBufferWriter refuses a capacity of 0, which an empty body's Content-Length gives.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(context.Request.ContentLength ?? 16 * 1024, 1, maxBytes + 1));
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(8192);
                var read = await context.Request.Body.ReadAsync(memory, cancellationToken);
                if (read == 0)
                {
                    break;
                }
                buffer.Advance(read);
                if (buffer.WrittenCount > maxBytes)
                {
                    return (null, true);
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, true);
        }
        return (buffer.WrittenSpan.ToArray(), false);
    }
}
