namespace Miaoya.MockWebUi; internal static class Placeholder { }
