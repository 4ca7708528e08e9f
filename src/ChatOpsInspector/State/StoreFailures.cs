using StackExchange.Redis;

namespace ChatOpsInspector.State;

/// <summary>
/// What counts as the state store being unavailable rather than a bug in the caller: connection
/// loss and timeouts, but also a cluster that is down or resharding (CLUSTERDOWN, MOVED/ASK storms,
/// TRYAGAIN, CROSSSLOT), scripts that cannot run (NOSCRIPT, errors inside a script, BUSY) and
/// permission refusals (NOPERM, NOAUTH, WRONGPASS). Each is answered 503 + Retry-After, never 500:
/// nothing was stored and a later delivery may succeed once an operator fixed the store.
/// </summary>
internal static class StoreFailures
{
    public static bool IsStoreFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // RedisCommandException is the client refusing a command it knows the server would refuse,
            // such as a multi-key command across slots on a cluster.
            if (e is RedisException or RedisCommandException or TimeoutException)
            {
                return true;
            }
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsStoreFailure))
            {
                return true;
            }
        }
        return false;
    }
}
