using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace ChatOpsInspector.Aws;

/// <summary>
/// Resolves AWS credentials on first use, not at start-up: the bot must start on a laptop with no
/// AWS at all, and only fail (with <see cref="AwsCredentialsUnavailableException"/>) when someone
/// actually asks it to talk to AWS. A successful resolution is kept; the SDK's credential objects
/// refresh themselves (instance profile, web identity, SSO).
/// </summary>
internal sealed class AwsCredentialsProvider(
    Func<CancellationToken, Task<AWSCredentials>> resolve,
    ILogger<AwsCredentialsProvider> logger,
    IDisposable? ownedResolver = null) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private AWSCredentials? resolved;

    /// <summary>The SDK default chain: environment, shared profile, web identity, container, EC2 instance metadata.</summary>
    public static AwsCredentialsProvider DefaultChain(ILogger<AwsCredentialsProvider> logger)
    {
        var resolver = new DefaultAWSCredentialsIdentityResolver();
        return new(async ct => await resolver.ResolveIdentityAsync(null!, ct), logger, resolver);
    }

    /// <summary>Credentials supplied by the host (a test, or an app that brings its own).</summary>
    public static AwsCredentialsProvider Fixed(AWSCredentials credentials, ILogger<AwsCredentialsProvider> logger) =>
        new(_ => Task.FromResult(credentials), logger);

    public async Task<AWSCredentials> GetCredentialsAsync(CancellationToken cancellationToken)
    {
        if (resolved is { } known)
        {
            return known;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (resolved is { } raced)
            {
                return raced;
            }

            try
            {
                resolved = await resolve(cancellationToken)
                    ?? throw new AwsCredentialsUnavailableException("The AWS credential chain returned nothing.");
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not AwsCredentialsUnavailableException)
            {
                logger.AwsCredentialsUnavailable(ex.GetType().Name);
                throw new AwsCredentialsUnavailableException(
                    "No AWS credentials found in the SDK default chain (environment, shared profile, web identity, container or instance metadata).",
                    ex);
            }

            return resolved;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A current key pair (refreshed by the SDK when it is about to expire) for signing one request.</summary>
    public async Task<ImmutableCredentials> GetSigningCredentialsAsync(CancellationToken cancellationToken)
    {
        var credentials = await GetCredentialsAsync(cancellationToken);
        ImmutableCredentials? current;
        try
        {
            current = await credentials.GetCredentialsAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.AwsCredentialsUnavailable(ex.GetType().Name);
            throw new AwsCredentialsUnavailableException("AWS credentials could not be refreshed.", ex);
        }

        if (current is null || string.IsNullOrEmpty(current.AccessKey) || string.IsNullOrEmpty(current.SecretKey))
        {
            throw new AwsCredentialsUnavailableException("The resolved AWS credentials have no access key.");
        }

        return current;
    }

    public void Dispose()
    {
        gate.Dispose();
        ownedResolver?.Dispose();
    }
}
