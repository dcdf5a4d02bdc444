using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace DePIN.Silo.Api;

/// <summary>
/// Maps the cluster's transient failures (a silo died and its grains are moving, a call timed out) to
/// 503 with Retry-After, so agents and tools retry instead of treating them as errors of their own.
/// </summary>
public sealed class ClusterUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
            or GatewayTooBusyException))
        {
            return false;
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = "urn:depin:problem:unavailable",
                Title = "The cluster cannot serve this right now.",
                Detail = "A silo is unavailable or a call timed out; retry shortly.",
            },
        });
    }
}
