namespace Miaoya.Imaging; internal static class Placeholder { }
