// The grammar of the nng language, version 1 (docs/language.md describes it in prose).
// ANTLR 4 generates the C++ lexer and parser from this file at build time.
//
// Notes for readers:
// - Names may be dotted (`fc1.weight`) and are one token, so a parameter name printed by
//   the tools reads back unchanged; a dotted component may even be a keyword (`grad.input`).
// - Statements of models and blocks share one rule; where a statement may appear (no
//   `input` in a block, `return` last in a block) is checked by the lowering, which gives
//   a clearer message than a syntax error could.
// - Lexical errors (a stray character, an unterminated string) become tokens on the hidden
//   channel: the front end reports them and the parser goes on with the rest.
grammar Nng;

file        : item* EOF ;

item        : importDecl | constDecl | blockDecl | modelDecl ;

importDecl  : IMPORT STRING ';' ;
constDecl   : CONST NAME '=' expr ';' ;
blockDecl   : BLOCK NAME '(' (NAME (',' NAME)*)? ')' '{' stmt* '}' ;
modelDecl   : MODEL NAME '{' stmt* '}' ;

stmt
  : INPUT NAME ':' type ';'                                   # inputStmt
  | kind=(PARAM | BUFFER) NAME ':' type ('=' initializer)? ';' # paramStmt
  | NAME (':' type)? '=' expr ';'                             # assignStmt
  | REPEAT expr '{' stmt* '}'                                 # repeatStmt
  | OUTPUT NAME (',' NAME)* ';'                               # outputStmt
  | MINIMIZE NAME ';'                                         # minimizeStmt
  | RETURN expr ';'                                           # returnStmt
  ;

// f32[N, 784], f32[] (a scalar); each dimension is a constant expression or a symbol.
type        : NAME '[' (expr (',' expr)*)? ']' ;

// he_normal, zeros, constant(0.1), normal(0.0, 0.02). A param without one (the printers
// write that for a graph whose values come from elsewhere) gets no initializer.
initializer : NAME ('(' (expr (',' expr)*)? ')')? ;

// Precedence, tightest first: unary minus, @, * and /, + and -. Binary operators are
// left-associative.
expr
  : MINUS expr                     # negExpr
  | expr op=AT expr                # binaryExpr
  | expr op=(STAR | SLASH) expr    # binaryExpr
  | expr op=(PLUS | MINUS) expr    # binaryExpr
  | primary                        # primaryExpr
  ;

primary
  : '(' expr ')'                              # parenExpr
  | NAME '(' (arg (',' arg)*)? ')'            # callExpr
  | NAME                                      # nameExpr
  | (INT | FLOAT | KW_INF | KW_NAN)           # numberExpr
  | STRING                                    # stringExpr
  | (KW_TRUE | KW_FALSE)                      # boolExpr
  | '[' (expr (',' expr)*)? ']'               # listExpr
  ;

// A positional argument, or a keyword argument `key = value`.
arg         : (NAME '=')? expr ;

IMPORT   : 'import' ;
CONST    : 'const' ;
BLOCK    : 'block' ;
MODEL    : 'model' ;
INPUT    : 'input' ;
PARAM    : 'param' ;
BUFFER   : 'buffer' ;
REPEAT   : 'repeat' ;
OUTPUT   : 'output' ;
MINIMIZE : 'minimize' ;
RETURN   : 'return' ;
// KW_ prefix: TRUE, NAN and the like are C macros in some headers.
KW_TRUE  : 'true' ;
KW_FALSE : 'false' ;
KW_INF   : 'inf' ;
KW_NAN   : 'nan' ;

LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACK   : '[' ;
RBRACK   : ']' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
COMMA    : ',' ;
SEMI     : ';' ;
COLON    : ':' ;
ASSIGN   : '=' ;
PLUS     : '+' ;
MINUS    : '-' ;
STAR     : '*' ;
SLASH    : '/' ;
AT       : '@' ;

NAME     : IDENT ('.' IDENT)* ;
FLOAT    : DIGITS '.' DIGITS EXPONENT? | DIGITS EXPONENT ;
INT      : DIGITS ;
STRING   : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;

COMMENT  : ('#' | '//') ~[\r\n]* -> skip ;
WS       : [ \t\r\n\f]+ -> skip ;

// Lexical errors, reported by the front end; the parser never sees them.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* -> channel(HIDDEN) ;
ERROR_CHAR          : . -> channel(HIDDEN) ;

fragment IDENT    : [A-Za-z_] [A-Za-z0-9_]* ;
fragment DIGITS   : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
