namespace DePIN.Silo.Api;

/// <summary>
/// Short forms for what every route declares to the OpenAPI document: its name and summary, and the problem details
/// it can answer with. 400 stands for a validation problem (field errors); every other status for a plain problem.
/// </summary>
public static class EndpointDocs
{
    /// <summary>Names the route (its OpenAPI operation id) and says in one sentence what it does.</summary>
    public static RouteHandlerBuilder Describe(this RouteHandlerBuilder endpoint, string name, string summary) =>
        endpoint.WithName(name).WithSummary(summary);

    /// <summary>The problem details the route may answer with, by status code.</summary>
    public static RouteHandlerBuilder Problems(this RouteHandlerBuilder endpoint, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(status, StatusCodes.Status400BadRequest, nameof(statuses));
            endpoint = status == StatusCodes.Status400BadRequest
                ? endpoint.ProducesValidationProblem()
                : endpoint.ProducesProblem(status);
        }

        return endpoint;
    }

    /// <summary>An idempotent create: 201 with the resource when new, 200 with it when the same request came before.</summary>
    public static RouteHandlerBuilder CreatedOrFound<TResource>(this RouteHandlerBuilder endpoint) =>
        endpoint.Produces<TResource>(StatusCodes.Status201Created).Produces<TResource>();
}
