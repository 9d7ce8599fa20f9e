using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Miaoya.Server;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>) and the interactive reference over it (<c>/docs</c>, Swagger UI from
/// the Swashbuckle.AspNetCore.SwaggerUI package, whose HTML, scripts and styles are embedded in its assembly: the page
/// loads nothing from another host). Both are open without the key: they describe the API and hold no job, key, box
/// address or file; every request the page sends to the API ("Try it out") still needs the key (the Authorize button).
/// </summary>
internal static class ApiReference
{
    public const string DocumentPath = "/openapi/v1.json";

    public const string DocsPrefix = "docs";

    /// <summary>Whether a request may skip the key: a GET or HEAD of the OpenAPI document or of a /docs page or asset.</summary>
    public static bool IsOpen(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        // No route of the API is under /docs or equals the document's path, so neither can reach a job's data.
        && (request.Path.Equals(DocumentPath, StringComparison.OrdinalIgnoreCase) || request.Path.StartsWithSegments("/" + DocsPrefix, StringComparison.OrdinalIgnoreCase));

    public static void AddMiaoyaOpenApi(this IServiceCollection services) => services.AddOpenApi(o =>
    {
        o.AddSchemaTransformer((schema, context, _) =>
        {
            // A property left out when null ([JsonIgnore(Condition = WhenWritingNull)], JobListView.next) is optional
            // (not in "required") and, when present, never null.
            if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: false)
                    .OfType<JsonIgnoreAttribute>().Any(a => a.Condition == JsonIgnoreCondition.WhenWritingNull) == true && schema.Type is { } type)
            {
                schema.Type = type & ~JsonSchemaType.Null;
            }

            if (context.JsonTypeInfo.Type == typeof(JobPersonJson) && schema.Properties?.TryGetValue("trigger", out var trigger) == true && trigger is OpenApiSchema words)
            {
                // SubmissionReader.PersonTrigger: a person's trigger is one (comma-separated) string, an array of strings, or null.
                words.Type = JsonSchemaType.String | JsonSchemaType.Array | JsonSchemaType.Null;
            }

            if (context.JsonTypeInfo.Type == typeof(IdPhotoRuleView))
            {
                // A verdict's rules add numbers of their own (mm, samples, bytes, the nearest colour) beside the common ones.
                schema.AdditionalProperties = new OpenApiSchema();
            }

            return Task.CompletedTask;
        });
        o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Miaoya Orchestrator";
            document.Info.Description = "Portrait jobs on AUTOMATIC1111 WebUI boxes. Every route but /healthz needs the API key (X-Api-Key or Authorization: Bearer).";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyMiddleware.HeaderName,
                Description = "The server's API key (MIAOYA_API_KEY or --api-key-file); Authorization: Bearer KEY works too.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] }];

            // The server URL comes from the request (http://host:port/); without the trailing slash a client joining it
            // with "/v1/jobs" gets one slash.
            foreach (var server in document.Servers ?? [])
            {
                server.Url = server.Url?.TrimEnd('/');
            }

            foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
            {
                tag.Description = tag.Name switch
                {
                    "jobs" => "Queue portrait jobs (with the recipes the server offers), follow them (state, steps, server-sent events), download their files, delete them.",
                    "backends" => "The WebUI boxes of the fleet and the queue.",
                    IdPhotoEndpoints.Tag => "ID photos of an uploaded photo, queued as jobs of kind idphoto (followed, downloaded and deleted with the jobs routes); the verdict of a finished photo; the specs.",
                    "health" => "Liveness, without the key.",
                    _ => tag.Description,
                };
            }

            foreach (var (path, item) in document.Paths)
            {
                foreach (var operation in item.Operations?.Values.AsEnumerable() ?? [])
                {
                    if (path == "/healthz")
                    {
                        // The one route without the key (ApiKeyMiddleware).
                        operation.Security = [];
                        continue;
                    }

                    operation.Responses ??= new OpenApiResponses();
                    operation.Responses["401"] = new OpenApiResponse
                    {
                        Description = "No API key, or a wrong one (X-Api-Key or Authorization: Bearer).",
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(nameof(Microsoft.AspNetCore.Mvc.ProblemDetails), document) },
                        },
                    };
                }
            }

            return Task.CompletedTask;
        });
    });

    /// <summary>Serves the OpenAPI document and, at <c>/docs</c>, Swagger UI over it (Try it out sends the key given to Authorize).</summary>
    public static void MapApiReference(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        app.UseSwaggerUI(o =>
        {
            o.RoutePrefix = DocsPrefix;
            o.DocumentTitle = "Miaoya Orchestrator API";
            // Relative to /docs/index.html, so that the page also works behind a proxy that adds a path base.
            o.SwaggerEndpoint(".." + DocumentPath, "Miaoya Orchestrator v1");
        });
    }
}
