namespace Miaoya.WebUi.Tests;

/// <summary>
/// Both error dialects: FastAPI's 422 (fastapi 0.94.0 fastapi/exception_handlers.py) and the WebUI's error object
/// (A1111 v1.10.1 modules/api/api.py:167-196).
/// </summary>
public sealed class ErrorMappingTests
{
    [Fact]
    public void FastApi422_NamesTheFieldWithoutBodyPrefix()
    {
        const string body = """{"detail":[{"loc":["body","steps"],"msg":"value is not a valid integer","type":"type_error.integer"}]}""";

        var error = WebUiErrorParser.Parse("POST /sdapi/v1/img2img", 422, body);

        Assert.Equal(422, error.StatusCode);
        Assert.Null(error.ErrorType);
        var field = Assert.Single(error.FieldErrors);
        Assert.Equal("steps", field.Field);
        Assert.Equal("type_error.integer", field.Type);
        Assert.Equal("POST /sdapi/v1/img2img failed with HTTP 422: steps: value is not a valid integer", error.Message);
    }

    [Fact]
    public void WebUiHttpException_UsesDetail()
    {
        const string body = """{"error":"HTTPException","detail":"always on script foo not found","body":"","errors":"422: always on script foo not found"}""";

        var error = WebUiErrorParser.Parse("POST /sdapi/v1/txt2img", 422, body);

        Assert.Equal("HTTPException", error.ErrorType);
        Assert.Equal("always on script foo not found", error.Detail);
        Assert.Contains("POST /sdapi/v1/txt2img failed with HTTP 422 (HTTPException): always on script foo not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WebUi500_TakesMessageFromErrorsAndParsesPydanticFields()
    {
        // Shape seen in the wild for a ControlNet unit with integer enums (issue DrCyanide/cyanic-sd-krita#39).
        const string body = """{"error":"ValidationError","detail":"","body":"","errors":"2 validation errors for ControlNetUnit\nresize_mode\n  value is not a valid enumeration member (type=type_error.enum)\ncontrol_mode\n  value is not a valid enumeration member; permitted: 'Balanced' (type=type_error.enum)"}""";

        var error = WebUiErrorParser.Parse("POST /sdapi/v1/img2img", 500, body);

        Assert.Equal(500, error.StatusCode);
        Assert.Equal("ValidationError", error.ErrorType);
        Assert.Equal(["resize_mode", "control_mode"], error.FieldErrors.Select(f => f.Field));
        Assert.Equal("type_error.enum", error.FieldErrors[0].Type);
        Assert.Contains("resize_mode: value is not a valid enumeration member", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forge500_TakesTheMessageField__forge_dfdcbab_webui_py_30_38()
    {
        // Forge's handler for every exception but HTTPException; here a stem model name (scripts/controlnet.py:412).
        const string body = """{"error":"KeyError","detail":"","body":"","message":"'control_v11p_sd15_softedge'"}""";

        var error = WebUiErrorParser.Parse("POST /sdapi/v1/img2img", 500, body);

        Assert.Equal("KeyError", error.ErrorType);
        Assert.Equal("'control_v11p_sd15_softedge'", error.Detail);
        Assert.Equal("POST /sdapi/v1/img2img failed with HTTP 500 (KeyError): 'control_v11p_sd15_softedge'", error.Message);
    }

    [Fact]
    public void ForgeHttpException_IsFastApisPlainDetail__forge_dfdcbab_modules_api_api_py_210()
    {
        var error = WebUiErrorParser.Parse("POST /sdapi/v1/img2img", 404, """{"detail":"Init image not found"}""");

        Assert.Null(error.ErrorType);
        Assert.Equal("Init image not found", error.Detail);
    }

    [Fact]
    public void Unauthorized_SaysToCheckApiAuth()
    {
        const string body = """{"error":"HTTPException","detail":"Incorrect username or password","body":"","errors":""}""";

        var error = WebUiErrorParser.Parse("GET /sdapi/v1/sd-models", 401, body);

        Assert.Contains("Incorrect username or password", error.Message, StringComparison.Ordinal);
        Assert.Contains("--api-auth", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonJsonBody_IsQuotedShortened()
    {
        var error = WebUiErrorParser.Parse("GET /sdapi/v1/options", 502, "<html>" + new string('x', 2000) + "</html>");

        Assert.Equal(502, error.StatusCode);
        Assert.True(error.Detail!.Length < 700);
        Assert.StartsWith("<html>", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void StarletteNotFound_UsesStringDetail()
    {
        var error = WebUiErrorParser.Parse("GET /sdapi/v1/schedulers", 404, """{"detail":"Not Found"}""");

        Assert.Equal("Not Found", error.Detail);
        Assert.Empty(error.FieldErrors);
    }
}
